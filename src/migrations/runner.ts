import { UpgradeError, isUpgradeError } from "../errors.js";
import type { OnProgress } from "../progress.js";
import { readDrizzleFolder } from "./drizzle-folder.js";
import type { AppliedMigration, MigrationDriver, MigrationFile } from "./types.js";

/** What `planMigrations` decided. */
export interface MigrationPlan {
  /** Folder entries recorded as applied (matched by `created_at === when`, hash equal). */
  alreadyApplied: MigrationFile[];
  /** Folder entries to apply, in `idx` order. */
  pending: MigrationFile[];
}

/** Options of `runMigrations`. */
export interface RunMigrationsOptions {
  /** Called once before each migration (`done` = migrations applied so far) and once at the end. */
  onProgress?: OnProgress;
  /** How long to wait for another process's migration lock; default 60 s. */
  lockTimeoutMs?: number;
  /** Plan only: take the lock, read and check everything, apply nothing, create nothing. */
  dryRun?: boolean;
  /** Checked between migrations; an aborted run stops after the migration in progress. */
  signal?: AbortSignal;
}

/** The outcome of `runMigrations`, as migration tags. */
export interface RunMigrationsResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations still pending after the call: the plan in a dry run, empty otherwise. */
  pending: string[];
  /** Migrations that were already recorded as applied before the call. */
  alreadyApplied: string[];
}

const tags = (files: MigrationFile[]): string[] => files.map((f) => f.tag);

/**
 * Decides what to apply, refusing every ambiguous state instead of guessing (pure, no I/O).
 * Applied rows match folder entries by `created_at === when`.
 *
 * @throws UpgradeError E_CHECKSUM when an applied migration's file was edited (its hash differs);
 * E_MIGRATION_MISSING when a recorded migration has no folder entry; E_MIGRATION_ORDER when an
 * unapplied migration is not newer than the newest applied one (drizzle would skip it silently)
 * or pending migrations are not in increasing `when` order; E_MIGRATION_FOLDER when two folder
 * entries share a `when`.
 */
export function planMigrations(files: MigrationFile[], applied: AppliedMigration[]): MigrationPlan {
  const byWhen = new Map<number, MigrationFile>();
  for (const file of files) {
    const other = byWhen.get(file.when);
    if (other) {
      throw new UpgradeError("E_MIGRATION_FOLDER", `migrations ${other.tag} and ${file.tag} have the same "when" (${file.when})`, {
        hint: "give each journal entry a distinct `when`; drizzle identifies applied migrations by it",
        details: { tags: [other.tag, file.tag], when: file.when },
      });
    }
    byWhen.set(file.when, file);
  }
  const matched = new Set<MigrationFile>();
  const edited: { tag: string; recorded: string; file: string }[] = [];
  const missing: { createdAt: number; hash: string }[] = [];
  for (const row of applied) {
    const file = byWhen.get(row.createdAt);
    if (!file) missing.push({ createdAt: row.createdAt, hash: row.hash });
    else if (file.hash !== row.hash) edited.push({ tag: file.tag, recorded: row.hash, file: file.hash });
    else matched.add(file);
  }
  if (edited.length > 0) {
    const names = edited.map((e) => e.tag).join(", ");
    throw new UpgradeError(
      "E_CHECKSUM",
      `applied migration ${names} was edited after it was applied (its sha256 differs from the recorded one)`,
      {
        hint: `restore ${edited.map((e) => `${e.tag}.sql`).join(", ")} to the applied version from version control, and put schema changes in a new migration`,
        details: { edited },
      },
    );
  }
  if (missing.length > 0) {
    throw new UpgradeError(
      "E_MIGRATION_MISSING",
      `the database records ${missing.length} applied migration(s) that the folder does not have (created_at ${missing.map((m) => m.createdAt).join(", ")})`,
      {
        hint: "the database is newer than this migrations folder: deploy the matching version, or point at the right folder",
        details: { missing },
      },
    );
  }
  const newest = applied.reduce((max, row) => Math.max(max, row.createdAt), Number.NEGATIVE_INFINITY);
  const unapplied = files.filter((f) => !matched.has(f)).sort((a, b) => a.idx - b.idx);
  const older = unapplied.filter((f) => f.when <= newest);
  if (older.length > 0) {
    throw new UpgradeError(
      "E_MIGRATION_ORDER",
      `migration ${tags(older).join(", ")} is older than the newest applied migration and was never applied`,
      {
        hint: "drizzle would skip it silently; regenerate it as a new migration (newer `when`), or apply its SQL by hand and record it",
        details: { tags: tags(older), newestApplied: newest },
      },
    );
  }
  for (let i = 1; i < unapplied.length; i++) {
    const prev = unapplied[i - 1]!;
    const cur = unapplied[i]!;
    if (cur.when <= prev.when) {
      throw new UpgradeError(
        "E_MIGRATION_ORDER",
        `migration ${cur.tag} (idx ${cur.idx}) has an older "when" than ${prev.tag} (idx ${prev.idx})`,
        {
          hint: "fix meta/_journal.json so that `when` increases with `idx`",
          details: { tags: [prev.tag, cur.tag] },
        },
      );
    }
  }
  return { alreadyApplied: files.filter((f) => matched.has(f)).sort((a, b) => a.idx - b.idx), pending: unapplied };
}

function report(onProgress: OnProgress | undefined, done: number, total: number, message: string | undefined): void {
  try {
    onProgress?.({ unit: "migrations", done, total, ...(message === undefined ? {} : { message }) });
  } catch {
    // a progress listener must not break a migration
  }
}

/**
 * A migration that failed on a database that commits DDL as it goes: what ran before the failing
 * statement stays, so the error says the database must be restored, not migrated again.
 */
function partlyApplied(err: unknown, tag: string): unknown {
  if (!isUpgradeError(err, "E_MIGRATION_FAILED")) return err;
  return new UpgradeError("E_MIGRATION_FAILED", err.summary, {
    hint: `this database has no transactional DDL: statements of ${tag} before the failing one stay applied. A run restores its restore point on its own; by hand, restore the backup before migrating again`,
    details: { ...err.details, transactionalDdl: false },
    cause: err,
  });
}

/**
 * Applies the pending migrations of a drizzle-kit folder through a dialect's driver: takes the
 * driver's lock around everything, checks the whole plan (`planMigrations`) before applying
 * anything, then applies one migration per transaction (`driver.apply`), in `idx` order.
 * Without a migration to apply, nothing is written besides drizzle's bookkeeping table.
 *
 * @throws UpgradeError E_MIGRATION_FOLDER, E_LOCKED, E_CHECKSUM, E_MIGRATION_MISSING,
 * E_MIGRATION_ORDER (nothing applied), or E_MIGRATION_FAILED / E_FOREIGN_KEY from the driver
 * (the failing migration rolled back; the ones before it stay applied and recorded).
 */
export async function runMigrations(
  driver: MigrationDriver,
  dir: string,
  options: RunMigrationsOptions = {},
): Promise<RunMigrationsResult> {
  const files = await readDrizzleFolder(dir);
  const release = await driver.lock(options.lockTimeoutMs ?? 60_000);
  try {
    // A dry run creates nothing: the driver's applied() returns [] without a bookkeeping table.
    if (!options.dryRun) await driver.ensureBookkeeping();
    const plan = planMigrations(files, await driver.applied());
    const alreadyApplied = tags(plan.alreadyApplied);
    if (options.dryRun) return { applied: [], pending: tags(plan.pending), alreadyApplied };
    const total = plan.pending.length;
    const applied: string[] = [];
    for (const migration of plan.pending) {
      if (options.signal?.aborted) {
        throw new UpgradeError("E_MIGRATION_FAILED", `migrations aborted before ${migration.tag}`, {
          hint: "run the migration step again; applied migrations are recorded and will not run twice",
          details: { tag: migration.tag, applied },
          cause: options.signal.reason,
        });
      }
      report(options.onProgress, applied.length, total, migration.tag);
      await driver.apply(migration).catch((err: unknown) => {
        throw driver.capabilities.transactionalDdl ? err : partlyApplied(err, migration.tag);
      });
      applied.push(migration.tag);
    }
    if (total > 0) report(options.onProgress, total, total, applied[applied.length - 1]);
    return { applied, pending: [], alreadyApplied };
  } finally {
    await release();
  }
}
