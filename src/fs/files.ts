import { chmod, chown, copyFile, lstat, rename, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UpgradeError } from "../errors.js";
import { ensurePrivateDir, fsyncPath, hashFile, removeIfExists, removeStaleTemps, sideFilePath, tempPathBeside } from "./durable.js";
import { linkDrift, resolveLinks, restoreLinks, type LinkHop } from "./links.js";

/** sha256 of a file, hex, streamed. */
export async function sha256File(path: string): Promise<string> {
  return (await hashFile(path)).sha256;
}

/** Who owns a file; applied only when running as root. */
export interface Owner {
  uid: number;
  gid: number;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Copies `from` to `to` atomically: a temp file beside `to`, given `owner` (as root) and then
 * `mode` (chown clears setuid bits, so it goes first), fsynced, renamed over `to`; the folder is
 * fsynced. A crash leaves either the old `to` or the new one.
 */
export async function atomicCopy(from: string, to: string, mode: number, owner?: Owner | null): Promise<void> {
  await removeStaleTemps(to, "copy");
  const tmp = tempPathBeside(to, "copy");
  try {
    await copyFile(from, tmp);
    if (owner && isRoot()) await chown(tmp, owner.uid, owner.gid);
    await chmod(tmp, mode);
    await fsyncPath(tmp);
    await rename(tmp, to);
  } catch (err) {
    await removeIfExists(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncPath(dirname(to));
}

/**
 * A configuration file as backed up: where it was, the real file behind its symbolic links,
 * whether it existed, its copy and hash, its mode and owner. The link fields and the owner are
 * absent in journals written before they were recorded.
 */
export interface FileCopy {
  path: string;
  /** The file whose bytes were copied and are restored (symbolic links followed). */
  realPath?: string;
  /** `readlink(path)`, or null when `path` was not a symbolic link. */
  link?: string | null;
  /** Every symbolic link from `path` to `realPath`; the rollback puts each back as it was. */
  links?: LinkHop[];
  exists: boolean;
  backup: string | null;
  sha256: string | null;
  mode: number | null;
  uid?: number | null;
  gid?: number | null;
  bytes: number;
}

/** E_CONFIG unless `st` is a regular file: a directory, a FIFO or a device cannot be backed up as bytes. */
export function requireRegularFile(st: Stats, label: string): void {
  if (st.isFile()) return;
  const what = st.isDirectory()
    ? "a directory"
    : st.isFIFO()
      ? "a FIFO"
      : st.isSocket()
        ? "a socket"
        : st.isCharacterDevice() || st.isBlockDevice()
          ? "a device"
          : "not a regular file";
  throw new UpgradeError("E_CONFIG", `${label} is ${what}; only regular files can be backed up`, {
    hint: st.isDirectory() ? "list the files inside it one by one in `files`" : "remove it from `files`",
    details: { file: label },
  });
}

/**
 * Copies one file into `<backupDir>/files` (0700; the copy 0600) under a name that cannot
 * collide and fits NAME_MAX. A symbolic link is followed: the real file's bytes, mode and owner
 * are kept, and the links are recorded so the rollback can put them back.
 *
 * @throws UpgradeError E_CONFIG when the real file is not a regular file.
 */
export async function backupFile(path: string, backupDir: string, index: number): Promise<FileCopy> {
  const { realPath, link, links } = await resolveLinks(path);
  const info = await stat(realPath).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
  const where = { path, realPath, link, links };
  if (!info) return { ...where, exists: false, backup: null, sha256: null, mode: null, uid: null, gid: null, bytes: 0 };
  requireRegularFile(info, path);
  const dir = join(backupDir, "files");
  await ensurePrivateDir(dir);
  const dest = sideFilePath(join(dir, basename(path)), "", `${index}-`);
  await atomicCopy(realPath, dest, 0o600);
  return {
    ...where,
    exists: true,
    backup: dest,
    sha256: await sha256File(dest),
    mode: info.mode & 0o7777,
    uid: info.uid,
    gid: info.gid,
    bytes: info.size,
  };
}

/**
 * Puts a backed-up file back: its symbolic links as they were, then the real file byte for
 * byte with its mode (and owner, as root), or removes the real file if it did not exist.
 */
export async function restoreFile(copy: FileCopy): Promise<void> {
  const realPath = copy.realPath ?? copy.path;
  await restoreLinks(copy.links ?? []);
  if (!copy.exists || !copy.backup) {
    await removeIfExists(realPath);
    await fsyncPath(dirname(realPath)).catch(() => undefined);
    return;
  }
  const owner = copy.uid != null && copy.gid != null ? { uid: copy.uid, gid: copy.gid } : null;
  await atomicCopy(copy.backup, realPath, copy.mode ?? 0o644, owner);
}

/**
 * What differs between a file on disk and its backup record, or null when nothing does: its
 * symbolic links (each still a link with the same target), the real file it leads to, its
 * sha256, its mode, and (as root) its owner.
 */
export async function fileDrift(copy: FileCopy): Promise<string | null> {
  const realPath = copy.realPath ?? copy.path;
  if (copy.links) {
    const drift = await linkDrift(copy.links);
    if (drift) return drift;
    if (copy.links.length === 0 && copy.exists && (await lstat(copy.path).catch(() => null))?.isSymbolicLink())
      return `${copy.path} became a symbolic link`;
    const now = await resolveLinks(copy.path);
    if (now.realPath !== realPath) return `${copy.path} leads to ${now.realPath}, not ${realPath}`;
  }
  const st = await stat(realPath).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
  if (!copy.exists) return st ? `${realPath} exists, and did not before` : null;
  if (!st) return `${realPath} is missing`;
  if (!st.isFile()) return `${realPath} is not a regular file`;
  if ((await sha256File(realPath)) !== copy.sha256) return `${realPath} has other content`;
  if (copy.mode != null && (st.mode & 0o7777) !== copy.mode)
    return `${realPath} has mode ${(st.mode & 0o7777).toString(8)}, not ${copy.mode.toString(8)}`;
  if (isRoot() && copy.uid != null && (st.uid !== copy.uid || st.gid !== copy.gid))
    return `${realPath} is owned by ${st.uid}:${st.gid}, not ${copy.uid}:${copy.gid}`;
  return null;
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
