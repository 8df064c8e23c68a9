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

/** The `format` of artifacts written by `backupSqlite`. */
export const SQLITE_BACKUP_FORMAT = "sqlite-backup-api";

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

/**
 * Writes a consistent copy of the open database `db` to `<dir>/<name>.sqlite` with SQLite's
 * online backup API (better-sqlite3's `backup()`), through a temporary name and a rename, so
 * a crash never leaves a partial file under the final name. `dir` is created 0700 when missing
 * (an existing directory open to other users is refused), the file is 0600. Re-running
 * overwrites the previous file. Writes by other connections during the copy restart it; after
 * a restart the rest is copied in one step, under one read transaction (in WAL mode writers
 * are not blocked), so the copy is always a committed state of the database.
 *
 * @throws UpgradeError E_BACKUP (E_DISK_FULL when the disk is full); nothing is left behind.
 */
export async function backupSqlite(db: SqliteDb, dir: string, name: string, options: CopyOptions = {}): Promise<BackupArtifact> {
  checkName(name);
  const backupDir = resolve(dir);
  await ensurePrivateDir(backupDir);
  const finalPath = join(backupDir, `${name}.sqlite`);
  await removeStaleTemps(finalPath, "backup");
  const tmpPath = tempPathBeside(finalPath, "backup");
  const pageSize = Number(db.pragma("page_size", { simple: true }));
  const pages = stepPages(pageSize);
  try {
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
    await chmod(tmpPath, 0o600);
    await fsyncPath(tmpPath);
    const { sha256, bytes } = await hashFile(tmpPath);
    const createdAt = new Date().toISOString();
    await rename(tmpPath, finalPath);
    await fsyncPath(backupDir);
    return { path: finalPath, bytes, sha256, format: SQLITE_BACKUP_FORMAT, createdAt };
  } catch (err) {
    await removeIfExists(tmpPath, `${tmpPath}-journal`).catch(() => undefined);
    throw backupWriteError(err, backupDir, finalPath, { name });
  }
}
