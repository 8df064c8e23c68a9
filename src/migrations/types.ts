import type { Capabilities } from "../adapters/capabilities.js";

/** One migration read from a drizzle-kit folder. */
export interface MigrationFile {
  /** Position in `meta/_journal.json`. */
  idx: number;
  /** The journal's `tag`, also the file name without `.sql`. */
  tag: string;
  /** The journal's `when`; drizzle stores it as `created_at` of the bookkeeping row. */
  when: number;
  /** sha256 of the whole file text, hex: drizzle's `hash` column. */
  hash: string;
  /** The statements, split on `--> statement-breakpoint`, trimmed, empty ones dropped. */
  statements: string[];
}

/** A row of drizzle's `__drizzle_migrations`. */
export interface AppliedMigration {
  hash: string;
  createdAt: number;
}

/** Options of applying one migration. */
export interface ApplyOptions {
  /** Called before each statement; used for progress and for naming the failing statement. */
  onStatement?: (index: number, total: number) => void;
}

/**
 * The dialect side of the migration runner: bookkeeping, lock and one migration at a time.
 * The generic runner (`runMigrations`) holds the ordering, checksum and progress logic.
 */
export interface MigrationDriver {
  /** Only `transactionalDdl` is read (by the runner, for what a failed migration may leave behind). */
  readonly capabilities: Pick<Capabilities, "transactionalDdl">;
  /** Takes the migration lock (waiting up to `timeoutMs`), returns its release; E_LOCKED on timeout. */
  lock(timeoutMs: number): Promise<() => Promise<void>>;
  /** Creates drizzle's bookkeeping table when missing, in drizzle's own shape. */
  ensureBookkeeping(): Promise<void>;
  /** The bookkeeping rows, oldest first. */
  applied(): Promise<AppliedMigration[]>;
  /**
   * Applies one migration and records it, in one transaction where the dialect has
   * transactional DDL; throws E_MIGRATION_FAILED naming the failing statement.
   */
  apply(migration: MigrationFile, options?: ApplyOptions): Promise<void>;
}
