import { realpathSync, statSync } from "node:fs";
import { chmod, open, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UpgradeError } from "../../errors.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import type { SqliteDb } from "./connection.js";
import {
  backupWriteError,
  ensurePrivateDir,
  fsyncPath,
  removeIfExists,
  removeStaleTemps,
  hashFile,
  tempPathBeside,
} from "../../fs/durable.js";
import { copyFileHashed } from "../../fs/copy-hashed.js";

/** The `format` of artifacts written by `backupSqlite` through SQLite's online backup API. */
export const SQLITE_BACKUP_FORMAT = "sqlite-backup-api";
/** The `format` of artifacts written by `backupSqlite` as a byte copy of a file held still by a read transaction. */
export const SQLITE_FILE_COPY_FORMAT = "sqlite-file-copy";

/** Pages copied per backup step: about 8 MiB, so progress is regular and steps stay short. */
function stepPages(pageSize: number): number {
  return Math.max(100, Math.floor((8 << 20) / pageSize));
}

function checkName(name: string): void {
  if (name === "" || /[\\/]/.test(name) || name === "." || name === "..") {
    throw new UpgradeError("E_USAGE", `backup name ${JSON.stringify(name)} must be a plain file name`, {
      hint: "use a name without slashes, e.g. the run id",
    });
  }
}

/** Options of `backupSqlite`. */
export interface SqliteBackupOptions extends CopyOptions {
  /**
   * The service is stopped: in rollback-journal mode the copy may hold the read lock for its
   * whole length (writers wait), so it is a plain file copy. Default false (a hot backup never
   * makes writers wait longer than one backup step).
   */
  writersMayWait?: boolean;
}

/**
 * Starts a read transaction on `db` and says whether the database file alone is its state and
 * stays so until the transaction ends: in WAL mode when the WAL holds no frame (absent or
 * empty once the read began: a WAL in use by this reader cannot be emptied, so the reader reads
 * the file alone, and no checkpoint writes the file while it reads); in rollback-journal mode
 * always (the SHARED lock keeps every writer out), when `writersMayWait`. Ends the transaction
 * and says false otherwise.
 */
function fileIsSnapshot(db: SqliteDb, path: string, writersMayWait: boolean): boolean {
  const wal = String(db.pragma("journal_mode", { simple: true })).toLowerCase() === "wal";
  if (!wal && !writersMayWait) return false;
  db.exec("BEGIN");
  try {
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    const walFile = statSync(`${realpathSync(path)}-wal`, { throwIfNoEntry: false });
    if (!wal || !walFile || walFile.size === 0) return true;
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  db.exec("ROLLBACK");
  return false;
}

/**
 * Writes a consistent copy of the open database `db` to `<dir>/<name>.sqlite` through a
 * temporary name and a rename, so a crash never leaves a partial file under the final name.
 * `dir` is created 0700 when missing (an existing directory open to other users is refused), the
 * file is 0600. Re-running overwrites the previous file.
 *
 * When the database file alone is a committed state held still by a read transaction (see
 * `fileIsSnapshot`: a WAL database whose WAL is empty, e.g. after the change mark's checkpoint or
 * the seal's quiesce; a rollback-journal database when `writersMayWait`), the file is copied
 * at disk speed with its sha256 in the same pass (`sqlite-file-copy`). Otherwise SQLite's online
 * backup API copies it (`sqlite-backup-api`), then the copy is hashed: writes by other
 * connections during the copy restart it; after a restart the rest is copied in one step, under
 * one read transaction (in WAL mode writers are not blocked), so the copy is always a committed
 * state of the database.
 *
 * @throws UpgradeError E_BACKUP (E_DISK_FULL when the disk is full); nothing is left behind.
 */
export async function backupSqlite(db: SqliteDb, dir: string, name: string, options: SqliteBackupOptions = {}): Promise<BackupArtifact> {
  checkName(name);
  const backupDir = resolve(dir);
  await ensurePrivateDir(backupDir);
  const finalPath = join(backupDir, `${name}.sqlite`);
  await removeStaleTemps(finalPath, "backup");
  const tmpPath = tempPathBeside(finalPath, "backup");
  try {
    let copied: { sha256: string; bytes: number; format: string };
    if (fileIsSnapshot(db, db.name, options.writersMayWait ?? false)) {
      try {
        const total = statSync(db.name).size;
        const abortError = (reason: unknown) => new UpgradeError("E_BACKUP", "backup aborted", { cause: reason });
        copied = { ...(await copyFileHashed(db.name, tmpPath, { ...options, total, abortError })), format: SQLITE_FILE_COPY_FORMAT };
      } finally {
        if (db.inTransaction) db.exec("ROLLBACK");
      }
    } else {
      await backupApi(db, tmpPath, options);
      await fsyncPath(tmpPath);
      copied = { ...(await hashFile(tmpPath)), format: SQLITE_BACKUP_FORMAT };
    }
    await chmod(tmpPath, 0o600);
    const createdAt = new Date().toISOString();
    await rename(tmpPath, finalPath);
    await fsyncPath(backupDir);
    return { path: finalPath, bytes: copied.bytes, sha256: copied.sha256, format: copied.format, createdAt };
  } catch (err) {
    await removeIfExists(tmpPath, `${tmpPath}-journal`).catch(() => undefined);
    throw backupWriteError(err, backupDir, finalPath, { name });
  }
}

/** SQLite's online backup API into `tmpPath` (see `backupSqlite`). */
async function backupApi(db: SqliteDb, tmpPath: string, options: CopyOptions): Promise<void> {
  const pageSize = Number(db.pragma("page_size", { simple: true }));
  const pages = stepPages(pageSize);
  // Created 0600 before SQLite writes anything, so the copy is never readable by others.
  await (await open(tmpPath, "wx", 0o600)).close();
  await chmod(tmpPath, 0o600);
  let previousRemaining = Number.POSITIVE_INFINITY;
  let allAtOnce = false;
  const result = await db.backup(tmpPath, {
    progress({ totalPages, remainingPages }) {
      if (options.signal?.aborted) {
        throw new UpgradeError("E_BACKUP", "backup aborted", { cause: options.signal.reason });
      }
      // The source changed under the copy and SQLite restarted it: finish in one step.
      if (remainingPages >= previousRemaining) allAtOnce = true;
      previousRemaining = remainingPages;
      try {
        options.onProgress?.({ unit: "bytes", done: (totalPages - remainingPages) * pageSize, total: totalPages * pageSize });
      } catch {
        // progress listeners must not break a backup
      }
      return allAtOnce ? 0x7fffffff : pages;
    },
  });
  const total = result.totalPages * pageSize;
  try {
    options.onProgress?.({ unit: "bytes", done: total, total });
  } catch {
    // ignored, as above
  }
  await removeIfExists(`${tmpPath}-journal`);
}
