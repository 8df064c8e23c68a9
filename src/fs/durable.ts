/** Durable file operations shared by the adapters and the steps: hashing, fsync, temp names, private folders. */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { pidAlive } from "../process/pid.js";

/** sha256 (hex) and size of a file, streamed in constant memory. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** fsyncs a file (or a directory, where the platform allows it). */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } catch (err) {
    // Some platforms refuse to fsync a directory (EISDIR/EINVAL/EPERM); the rename is still done.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM") throw err;
  } finally {
    await handle.close();
  }
}

/** A unique temporary name beside `finalPath`, hidden, so a crash never leaves a file under the final name. */
export function tempPathBeside(finalPath: string, purpose: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${purpose}-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Removes the temporary files that `tempPathBeside(finalPath, purpose)` left behind in processes
 * that died (a crash during a backup or a restore), so they do not pile up; never one of a live process.
 */
export async function removeStaleTemps(finalPath: string, purpose: string): Promise<void> {
  const prefix = `.${basename(finalPath)}.${purpose}-`;
  const names = await readdir(dirname(finalPath)).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]{8}\.tmp(-journal)?$/.exec(name.slice(prefix.length)) : null;
    if (match && !pidAlive(Number(match[1]))) await rm(join(dirname(finalPath), name), { force: true });
  }
}

/**
 * Ensures `dir` exists and is private: created 0700 when missing; an existing directory that
 * other users can enter or read is refused rather than silently re-permissioned.
 *
 * @throws UpgradeError E_BACKUP when the directory is accessible to group or others.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform === "win32") return;
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UpgradeError("E_BACKUP", `backup directory ${dir} is accessible to other users (mode ${mode.toString(8).padStart(4, "0")})`, {
      hint: `use a private directory: chmod 700 ${dir}`,
      details: { dir, mode: mode.toString(8) },
    });
  }
}

/** Removes files, ignoring the ones that do not exist. */
export async function removeIfExists(...paths: string[]): Promise<void> {
  for (const p of paths) await rm(p, { force: true });
}

/** True when `path` exists (any type). */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The error of a backup that could not be written, whatever wrote it: coded errors pass through,
 * a full disk (`ENOSPC`, `SQLITE_FULL`) is E_DISK_FULL, anything else E_BACKUP.
 */
export function backupWriteError(err: unknown, backupDir: string, finalPath: string, details: Record<string, unknown>): UpgradeError {
  if (isUpgradeError(err)) return err;
  const code = (err as { code?: string }).code;
  if (code === "ENOSPC" || code === "SQLITE_FULL") {
    return new UpgradeError("E_DISK_FULL", `no space left writing the backup to ${backupDir}`, {
      hint: "free space in the backup directory or choose another one; the database was not changed",
      details: { dir: backupDir },
      cause: err,
    });
  }
  return new UpgradeError("E_BACKUP", `backup to ${finalPath} failed: ${(err as Error).message}`, {
    hint: "check the backup directory (permissions, space); the database was not changed",
    details: { dir: backupDir, ...details },
    cause: err,
  });
}
