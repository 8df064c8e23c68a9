import { chmod, copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { fsyncPath, hashFile, tempPathBeside } from "./durable.js";
import { basename, dirname, join } from "node:path";

/** sha256 of a file, hex, streamed. */
export async function sha256File(path: string): Promise<string> {
  return (await hashFile(path)).sha256;
}

/** Creates a folder (and its parents) with mode 0700, and tightens it if it existed. */
export async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

/**
 * Copies `from` to `to` atomically: a temp file beside `to`, fsynced, given `mode`, renamed
 * over `to`; the folder is fsynced. A crash leaves either the old `to` or the new one.
 */
export async function atomicCopy(from: string, to: string, mode: number): Promise<void> {
  const tmp = tempPathBeside(to, "copy");
  await copyFile(from, tmp);
  await chmod(tmp, mode);
  await fsyncPath(tmp);
  await rename(tmp, to);
  await fsyncPath(dirname(to));
}

/** A configuration file as backed up: where it was, whether it existed, its copy and hash. */
export interface FileCopy {
  path: string;
  exists: boolean;
  backup: string | null;
  sha256: string | null;
  mode: number | null;
  bytes: number;
}

/** Copies one file into the backup folder (0600) under a name that cannot collide. */
export async function backupFile(path: string, backupDir: string, index: number): Promise<FileCopy> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
  if (!info) return { path, exists: false, backup: null, sha256: null, mode: null, bytes: 0 };
  const dir = join(backupDir, "files");
  await privateDir(dir);
  const dest = join(dir, `${index}-${basename(path)}`);
  await atomicCopy(path, dest, 0o600);
  return { path, exists: true, backup: dest, sha256: await sha256File(dest), mode: info.mode & 0o7777, bytes: info.size };
}

/** Puts a backed-up file back byte for byte with its mode, or removes it if it did not exist. */
export async function restoreFile(copy: FileCopy): Promise<void> {
  if (!copy.exists || !copy.backup) {
    await rm(copy.path, { force: true });
    return;
  }
  await atomicCopy(copy.backup, copy.path, copy.mode ?? 0o644);
}

/** sha256 of a file, or null when it does not exist. */
export async function sha256OrNull(path: string): Promise<string | null> {
  try {
    return await sha256File(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}
