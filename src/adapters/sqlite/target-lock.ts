import { UpgradeError } from "../../errors.js";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { sideFilePath } from "../../fs/durable.js";
import { realPathOf } from "../../fs/real-path.js";
import type { TargetLock } from "../types.js";
import { loadBetterSqlite3, type SqliteDb } from "./connection.js";

/** The file whose lock is the target lock of the SQLite database at `realPath` (its name fits NAME_MAX). */
export function targetLockPath(realPath: string): string {
  return sideFilePath(realPath, ".upgrade-lock");
}

/**
 * Takes the target lock of a SQLite database at once or fails with E_BUSY: an `EXCLUSIVE`
 * transaction on `<real path>.upgrade-lock`, beside the real file whatever symlink or spelling
 * the config used. It is an OS lock taken by SQLite, so the kernel releases it when the
 * process dies (SIGKILL included); it is held until `release()`.
 */
export async function lockSqliteTarget(path: string): Promise<TargetLock> {
  const real = realPathOf(path);
  const identity = `sqlite:${real}`;
  const lockPath = targetLockPath(real);
  if (!existsSync(dirname(real))) {
    throw new UpgradeError("E_NOT_FOUND", `the folder of the SQLite database ${real} does not exist`, {
      hint: "check `database` in the config (relative paths are relative to the config file); upgrade-machine never creates a missing database",
      details: { path: real },
    });
  }
  const Database = await loadBetterSqlite3();
  let db: SqliteDb;
  try {
    db = new Database(lockPath, { timeout: 0 });
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    // @ts-expect-error db may be unassigned when the constructor threw
    db?.close();
    const code = (err as { code?: string }).code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      throw new UpgradeError("E_BUSY", `${real} is being upgraded by another upgrade-machine process (it holds ${lockPath})`, {
        hint: "wait for that run to end (`upgrade-machine status` with its config); the lock is released as soon as that process ends, even if it is killed",
        details: { identity, lockPath },
        cause: err,
      });
    }
    throw new UpgradeError("E_CONNECT", `cannot take the lock ${lockPath}: ${(err as Error).message}`, {
      hint: "the folder of the database must exist and be writable by the user running upgrade-machine",
      details: { lockPath },
      cause: err,
    });
  }
  let released = false;
  return {
    identity,
    async release() {
      if (released) return;
      released = true;
      try {
        if (db.inTransaction) db.exec("ROLLBACK");
      } finally {
        db.close();
      }
    },
  };
}
