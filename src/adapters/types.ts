import type { OnProgress } from "../progress.js";
import type { AppliedMigration, MigrationDriver } from "../migrations/types.js";
import type { CostVerdict, Operation } from "../lint/operations.js";
import type { Capabilities } from "./capabilities.js";

export type { Capabilities } from "./capabilities.js";

/** A file written by a backup. */
export interface BackupArtifact {
  /** Absolute path of the backup file (0600, in a 0700 directory). */
  path: string;
  bytes: number;
  /** sha256 of the file, hex. */
  sha256: string;
  /** How the file was written, e.g. `sqlite-backup-api`, `pg_dump-custom`, `mysqldump`. */
  format: string;
  /** ISO time at which the copy finished. */
  createdAt: string;
}

/** The content of a database, reduced to hashes: equal fingerprints mean equal databases. */
export interface Fingerprint {
  /** sha256 over the normalised schema (tables, columns, types, indexes, constraints). */
  schema: string;
  /** Per table: row count and a content hash over the rows in primary-key order. */
  tables: Record<string, { rows: number; hash: string }>;
  /** sha256 over everything above. */
  hash: string;
}

/** The lock on a target itself, held by one orchestrator for a whole run, from any config or journal. */
export interface TargetLock {
  /**
   * The target's own identity: `sqlite:<real path>`, or the server's identity and the database
   * name (so `localhost` and `127.0.0.1`, a socket or a symlink name the same target).
   */
  readonly identity: string;
  release(): Promise<void>;
}

/** Options of a backup or a restore. */
export interface CopyOptions {
  onProgress?: OnProgress;
  signal?: AbortSignal;
}

/** Options of a restore. */
export interface RestoreOptions extends CopyOptions {
  /**
   * The restore point's fingerprint: an adapter that restores through a copy proves the copy
   * equals it before the live database is replaced (E_RESTORE otherwise, nothing changed).
   */
  expected?: Fingerprint;
}

/** What `check()` found out about a database and how the adapter will work with it. */
export interface DatabaseCheck {
  exists: boolean;
  serverVersion?: string;
  bytes?: number;
  /** What the adapter chose (server version, backup strategy, client tools and their paths): JSON, kept in the journal. */
  choices?: Record<string, unknown>;
  /** Lines for the operator: how backups will be taken, what cannot be done and what it costs. */
  notes?: string[];
}

/** A hot backup the adapter could not take, and why; the restore point is then taken after the stop. */
export interface SkippedBackup {
  skipped: string;
}

/**
 * A cheap mark of a database's state, taken without reading its data: what the dialect itself
 * can tell about writes since (SQLite: the files' identity, size and times and SQLite's own
 * change counters; PostgreSQL: the WAL; MySQL: InnoDB's log sequence number). JSON, kept in the
 * journal with the hot backup; `how` names the method for the log.
 */
export interface ChangeMark {
  readonly how: string;
  readonly [key: string]: unknown;
}

/** A mark the adapter cannot take now, and why (the seal then fingerprints the database). */
export interface SkippedMark {
  skipped: string;
}

/**
 * Whether a database is proven unchanged since a mark; `why` says what was seen (or not provable).
 * An unchanged check may carry `renewed`: a mark of the moment the check ended, proven to be of
 * the same state (whatever a later check of `renewed` proves, holds since the first mark), so
 * what came between (e.g. a backup's own work on the server) need not be judged again.
 */
export type MarkCheck = { unchanged: true; renewed?: ChangeMark } | { unchanged: false; why: string };

/** A column of a table, as a data snapshot's catalog gives it. */
export interface SnapshotColumn {
  name: string;
  /** The column's type as the catalog spells it (`character varying(255)`, `int(11)`, `TEXT`). */
  type: string;
}

/** A child table whose rows go with the parent's (`ON DELETE CASCADE`), and its referencing columns. */
export interface CascadeChild {
  table: string;
  columns: string[];
}

/**
 * A read-only view of a database's data at one moment, for the lint's counts: on SQLite a file
 * opened read-only (the hot backup, or the live file); on a server one REPEATABLE READ, READ ONLY
 * transaction. It runs no statement that writes. Names are real names (from `tables`/`columns`).
 */
export interface DataSnapshot {
  /** What was read, for the log (a path or the database, never a password). */
  readonly source: string;
  /** An identifier quoted in the dialect's way. */
  quote(name: string): string;
  /** The SQL of the length of a value in characters. */
  charLength(expr: string): string;
  /** Runs a read-only `SELECT` of one row whose one column is a count; returns it. */
  count(sql: string): Promise<number>;
  /** The tables (not views) of the database, drizzle's bookkeeping included. */
  tables(): Promise<string[]>;
  /** The columns of a table, in order. */
  columns(table: string): Promise<SnapshotColumn[]>;
  /** The tables with a foreign key to `table` declared `ON DELETE CASCADE`. */
  cascadeChildren(table: string): Promise<CascadeChild[]>;
  /** The table's size on disk with its indexes; null where the dialect does not tell (SQLite). */
  tableBytes(table: string): Promise<number | null>;
  /** drizzle's bookkeeping rows as the snapshot records them ([] without the table). */
  applied(): Promise<AppliedMigration[]>;
  /**
   * Whether `op` locks or rewrites its table on this server, and why (e.g. `CREATE INDEX without
   * CONCURRENTLY blocks writes while it builds`); null when it does not, and always on SQLite.
   * `column` is the altered column as it is now, when there is one.
   */
  costOf(op: Operation, column: SnapshotColumn | null): CostVerdict | null;
  /** Ends the transaction and closes the connection. */
  close(): Promise<void>;
}

/**
 * A scratch copy of a backup, made for a rehearsal: a database of its own that a migration runner
 * can run against, never the live one. Its name is the caller's (one per run), so a run resumed
 * after a crash finds the copy an earlier attempt left and drops it (`dropScratch`).
 */
export interface ScratchCopy {
  /** How the copy was made, for the output and the log, e.g. `file copy of the hot backup`. */
  readonly how: string;
  /** The database's bytes the copy holds. */
  readonly bytes: number;
  /** The copy, as an adapter of its own (its migration driver; closed by `dropScratch`'s caller). */
  readonly adapter: DatabaseAdapter;
  /**
   * Where a command finds the copy: `databasePath` (SQLite) or `databaseUrl` (a server's URL with
   * the password: never logged, never journaled).
   */
  readonly location: { databasePath: string } | { databaseUrl: string };
  /** The copy, printable (no password). */
  readonly display: string;
}

/**
 * One database being upgraded: what the core asks of a dialect's driver, nothing more. Each
 * driver (better-sqlite3, postgres, mysql2) implements it in a folder of the same shape under
 * `src/adapters/<dialect>/`; a dialect's other abilities (dropping a backup, its own options)
 * live on its own adapter type.
 */
export interface DatabaseAdapter {
  /** What this adapter can do; the core reads these flags, never the dialect's name. */
  readonly capabilities: Capabilities;
  /** The target, printable: the password of a URL is redacted. */
  readonly display: string;
  /**
   * Connects and reports whether the database exists, and whether its backups can be taken
   * (E_TOOL_MISSING / E_TOOL_VERSION when not); throws E_CONNECT / E_AUTH. Changes nothing.
   */
  check(): Promise<DatabaseCheck>;
  /** Writes a consistent copy to `<dir>/<name>` (plus the dialect's extension), 0600, hashed. */
  backup(dir: string, name: string, options?: CopyOptions): Promise<BackupArtifact>;
  /**
   * The backup before the stop, while the service still runs: `backup`, unless the dialect cannot
   * take one now (then it says why, and the seal takes the restore point after the stop).
   */
  hotBackup(dir: string, name: string, options?: CopyOptions): Promise<BackupArtifact | SkippedBackup>;
  /** Replaces the database's content with the backup, atomically where the dialect allows. */
  restore(artifact: BackupArtifact, options?: RestoreOptions): Promise<void>;
  /** Fingerprint of the live database. */
  fingerprint(): Promise<Fingerprint>;
  /**
   * Fingerprint of a backup without touching the live database; only when
   * `capabilities.backupFingerprints` (E_INTERNAL otherwise).
   */
  fingerprintBackup(artifact: BackupArtifact): Promise<Fingerprint>;
  /**
   * A mark of the database now, without reading its data (O(1) or O(schema)), or why none can be
   * trusted now (writes in flight, an engine that cannot tell). With the hot backup: a mark taken
   * before it and proven unchanged after it means the backup is the state at the mark.
   */
  changeMark(): Promise<ChangeMark | SkippedMark>;
  /**
   * Whether nothing was written since `mark` (taken by `changeMark` of the same target), in
   * O(what changed): `unchanged: true` only when proven, never on a guess. Must be called before
   * `quiesce` (a checkpoint rewrites files without changing content).
   */
  sinceMark(mark: ChangeMark): Promise<MarkCheck>;
  /**
   * No mark taken so far will be checked again: frees what kept them checkable (PostgreSQL: the
   * replication slot that keeps the WAL since). Optional; `close` does it too.
   */
  forgetMarks?(): Promise<void>;
  /** Makes every committed write durable in the main file(s), e.g. a WAL checkpoint; a no-op where commits are. */
  quiesce(): Promise<void>;
  /**
   * Takes the target lock at once (E_BUSY when another orchestrator holds it): an OS lock beside
   * a SQLite file, a session advisory lock on PostgreSQL, `GET_LOCK` on MySQL. Released by the
   * OS or the server when this process dies. Independent of the adapter's connections: a restore
   * or `close()` does not release it.
   */
  lockTarget(): Promise<TargetLock>;
  /**
   * The first row's `column` of `table`, as text: null when the table is empty or the value
   * NULL, undefined when there is no such table. Read-only; presets read a service's own
   * bookkeeping with it (JupyterHub's `alembic_version`).
   */
  readValue(table: string, column: string): Promise<string | null | undefined>;
  /**
   * Deletes a backup this adapter wrote (a file; a template copy and its manifest on PostgreSQL)
   * once no run needs it, and returns the bytes it freed (0 when it was already gone).
   */
  dropBackup(artifact: BackupArtifact): Promise<number>;
  /**
   * A read-only snapshot of the data for the lint: a SQLite adapter opens `hotBackup` read-only
   * when given (the live file otherwise); a server adapter reads the live database in one
   * REPEATABLE READ, READ ONLY transaction (the hot backup's data, give or take the writes since).
   */
  readSnapshot(hotBackup: BackupArtifact | null): Promise<DataSnapshot>;
  /**
   * Makes the scratch copy `name` of `artifact` (a backup this adapter wrote): SQLite a file copy
   * in `dir`; PostgreSQL a `CREATE DATABASE ... TEMPLATE` of a template restore point or a
   * pg_restore of a dump into a scratch database; MySQL the dump loaded into a scratch database.
   * A copy of that name left by an earlier attempt is dropped first. E_REHEARSAL when the backup
   * cannot be copied; the live database is never touched.
   */
  scratchCopy(artifact: BackupArtifact, dir: string, name: string): Promise<ScratchCopy>;
  /** Drops the scratch copy `name` (in `dir`) when it exists: idempotent, safe after a crash at any point. */
  dropScratch(dir: string, name: string): Promise<void>;
  /** The dialect's side of the drizzle-kit migration runner. */
  migrationDriver(): MigrationDriver;
  /** Closes the adapter's connections (not the target lock). */
  close(): Promise<void>;
}
