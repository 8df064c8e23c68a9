import { resolve } from "node:path";
import { UpgradeError } from "../../errors.js";
import type { MigrationDriver } from "../../migrations/types.js";
import type { BackupArtifact, ChangeMark, CopyOptions, DatabaseAdapter, Fingerprint } from "../types.js";
import { checkSqliteMark, takeSqliteMark } from "./change-mark.js";
import { backupSqlite } from "./backup.js";
import { openSqlite, sleep, type SqliteDb } from "./connection.js";
import { exists, removeCounted, removeIfExists } from "../../fs/durable.js";
import { fingerprintSqlite } from "./fingerprint.js";
import { createSqliteMigrationDriver } from "./migration-driver.js";
import { restoreSqlite } from "./restore.js";
import { openSqliteSnapshot } from "./snapshot.js";
import { lockSqliteTarget } from "./target-lock.js";
import { dropSqliteScratch, sqliteScratch } from "./scratch.js";

/** Options of `createSqliteAdapter`. */
export interface SqliteAdapterOptions {
  /** The database file; a relative path is resolved against the working directory now. */
  path: string;
  /** SQLite busy timeout for the adapter's connection, in ms; default 5000. */
  busyTimeoutMs?: number;
  /**
   * Create the file when it is missing (a first install migrated from nothing). Default false:
   * a wrong path fails with E_NOT_FOUND instead of migrating a new, empty database.
   */
  create?: boolean;
}

/** The SQLite adapter: a `DatabaseAdapter` whose `fingerprintBackup` is always available. */
export interface SqliteAdapter extends DatabaseAdapter {
  readonly dialect: "sqlite";
  /** Absolute path of the database file. */
  readonly path: string;
  fingerprintBackup(artifact: BackupArtifact): Promise<Fingerprint>;
}

/**
 * A `DatabaseAdapter` for a SQLite file, on better-sqlite3 (loaded on first use). One connection
 * is opened lazily and shared by every operation; `restore` and `close` close it.
 */
export function createSqliteAdapter(options: SqliteAdapterOptions): SqliteAdapter {
  const path = resolve(options.path);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let connection: Promise<SqliteDb> | undefined;

  const connect = (): Promise<SqliteDb> => {
    connection ??= openSqlite(path, { busyTimeoutMs, create: options.create ?? false }).catch((err: unknown) => {
      connection = undefined;
      throw err;
    });
    return connection;
  };
  const disconnect = async (): Promise<void> => {
    const pending = connection;
    connection = undefined;
    if (pending) (await pending.catch(() => undefined))?.close();
  };

  return {
    dialect: "sqlite",
    capabilities: { transactionalDdl: true, backupFingerprints: true },
    display: path,
    path,

    async check() {
      if (!(await exists(path))) return { exists: false };
      const db = await connect();
      const serverVersion = String((db.prepare("SELECT sqlite_version() AS v").get() as { v: unknown }).v);
      const pages = Number(db.pragma("page_count", { simple: true }));
      const pageSize = Number(db.pragma("page_size", { simple: true }));
      return { exists: true, serverVersion, bytes: pages * pageSize };
    },

    // The copy after the stop (the seal's): in rollback-journal mode it holds the read lock while
    // it copies the file at disk speed, so a writer that is still there waits.
    async backup(dir: string, name: string, copyOptions?: CopyOptions) {
      return backupSqlite(await connect(), dir, name, { ...copyOptions, writersMayWait: true });
    },

    async restore(artifact: BackupArtifact, copyOptions?: CopyOptions) {
      await disconnect();
      await restoreSqlite(path, artifact, copyOptions);
    },

    async fingerprint() {
      return fingerprintSqlite(await connect());
    },

    async hotBackup(dir: string, name: string, copyOptions?: CopyOptions) {
      return backupSqlite(await connect(), dir, name, copyOptions);
    },

    async readValue(table: string, column: string) {
      const db = await connect();
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) return undefined;
      const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
      const row = db.prepare(`SELECT ${quote(column)} AS v FROM ${quote(table)} LIMIT 1`).get() as { v: unknown } | undefined;
      return row === undefined || row.v === null || row.v === undefined ? null : String(row.v);
    },

    dropBackup: (artifact: BackupArtifact) => removeCounted(artifact.path),

    async fingerprintBackup(artifact: BackupArtifact) {
      // A backup of a WAL database is a WAL database: a read-only connection creates -wal and
      // -shm files beside it and cannot remove them; remove the ones it created.
      const sidecars = [`${artifact.path}-wal`, `${artifact.path}-shm`];
      const existed = await Promise.all(sidecars.map(exists));
      const db = await openSqlite(artifact.path, { readonly: true, busyTimeoutMs });
      try {
        return fingerprintSqlite(db);
      } finally {
        db.close();
        await removeIfExists(...sidecars.filter((_, i) => !existed[i]));
      }
    },

    async changeMark() {
      return takeSqliteMark(await connect(), path);
    },

    async sinceMark(mark: ChangeMark) {
      return checkSqliteMark(path, mark);
    },

    async quiesce() {
      const db = await connect();
      if (String(db.pragma("journal_mode", { simple: true })).toLowerCase() !== "wal") return;
      const deadline = Date.now() + busyTimeoutMs;
      for (;;) {
        const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
        if (!result || result.busy === 0) return;
        if (Date.now() >= deadline) {
          throw new UpgradeError("E_BUSY", `cannot checkpoint the WAL of ${path}: another connection is reading or writing`, {
            hint: "stop every process that has the database open (the service, a shell) and try again",
            details: { path, log: result.log, checkpointed: result.checkpointed },
          });
        }
        await sleep(100);
      }
    },

    lockTarget: () => lockSqliteTarget(path),

    readSnapshot: (hot: BackupArtifact | null) =>
      openSqliteSnapshot(hot?.path ?? path, busyTimeoutMs, hot ? `the hot backup ${hot.path}, read-only` : `${path}, read-only`),
    scratchCopy: (artifact, dir, name) => sqliteScratch(artifact, dir, name, (copy) => createSqliteAdapter({ path: copy, busyTimeoutMs })),
    dropScratch: dropSqliteScratch,

    migrationDriver(): MigrationDriver {
      return createSqliteMigrationDriver({ path, connection: connect });
    },

    close: disconnect,
  };
}
