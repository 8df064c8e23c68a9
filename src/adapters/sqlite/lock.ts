import { UpgradeError } from "../../errors.js";
import { sideFilePath } from "../../fs/durable.js";
import { resolveLinks } from "../../fs/links.js";
import { loadBetterSqlite3, sleep, type SqliteDb } from "./connection.js";

/** The lock file beside the database file `dbPath` (`<db>.migrate-lock`, shortened when the name is too long). */
export function migrationLockPath(dbPath: string): string {
  return sideFilePath(dbPath, ".migrate-lock");
}

/**
 * Takes an exclusive, cross-process lock for migrating the SQLite database at `dbPath`: an
 * `EXCLUSIVE` transaction held on a separate, empty SQLite file beside it (`<db>.migrate-lock`;
 * beside the real file when `dbPath` is a symbolic link, so every spelling takes the same lock).
 * The lock is an OS file lock taken by SQLite, so a process that dies (SIGKILL, OOM, power
 * loss) releases it at once: no stale lock, no pid check. The lock cannot live in the database
 * itself, since a transaction held there would block the migration's own writes. The lock file
 * stays after release (deleting it would let two processes lock two different files).
 * Polls every 50 ms without blocking the event loop.
 *
 * @returns the release function (idempotent).
 * @throws UpgradeError E_LOCKED after `timeoutMs`; E_CONNECT when the lock file cannot be opened.
 */
export async function lockSqliteMigrations(dbPath: string, timeoutMs: number): Promise<() => Promise<void>> {
  const Database = await loadBetterSqlite3();
  const lockPath = migrationLockPath((await resolveLinks(dbPath)).realPath);
  let db: SqliteDb;
  try {
    db = new Database(lockPath, { timeout: 0 });
  } catch (err) {
    throw new UpgradeError("E_CONNECT", `cannot open the migration lock file ${lockPath}: ${(err as Error).message}`, {
      hint: "the directory of the database must be writable by the user running the migration",
      details: { lockPath },
      cause: err,
    });
  }
  const deadline = Date.now() + Math.max(0, timeoutMs);
  for (;;) {
    try {
      db.exec("BEGIN EXCLUSIVE");
      break;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const busy = code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
      if (busy && Date.now() < deadline) {
        await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
        continue;
      }
      db.close();
      if (!busy) {
        throw new UpgradeError("E_CONNECT", `cannot lock ${lockPath}: ${(err as Error).message}`, { details: { lockPath }, cause: err });
      }
      throw new UpgradeError("E_LOCKED", `another process is migrating ${dbPath} (it holds ${lockPath}); waited ${timeoutMs} ms`, {
        hint: "wait for the other migration to finish and run again; the lock is released as soon as that process ends, even if it is killed",
        details: { path: dbPath, lockPath, timeoutMs },
        cause: err,
      });
    }
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      if (db.inTransaction) db.exec("COMMIT");
    } finally {
      db.close();
    }
  };
}
