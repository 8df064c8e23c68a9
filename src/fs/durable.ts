/** Durable file operations shared by the adapters and the steps: hashing, fsync, derived names, private folders. */
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

/** The longest file name most file systems accept (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/** Room kept free in every derived name for `-journal`, the longest suffix SQLite adds to a file it opens. */
const SPARE = 8;
/** The widest `<pid>-<random>.tmp` tail of a temporary name. */
const TEMP_TAIL = Buffer.byteLength(`${2 ** 32}-ffffffff.tmp`);

/** Cuts `text` to at most `bytes` UTF-8 bytes, never inside a character. */
function cutUtf8(text: string, bytes: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= bytes) return text;
  let end = bytes;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString();
}

/** `base` itself when it fits in `room` bytes; else its start and a hash of the whole, so two long names never meet. */
function fitName(base: string, room: number): string {
  if (Buffer.byteLength(base) <= room) return base;
  const tag = `~${createHash("sha256").update(base).digest("hex").slice(0, 16)}`;
  if (room < tag.length + 1) {
    throw new UpgradeError("E_INTERNAL", `a derived file name needs ${tag.length + 1} bytes for the file's name, only ${room} are left`, {
      hint: "this is a bug of upgrade-machine: report it",
    });
  }
  return cutUtf8(base, room - tag.length) + tag;
}

/**
 * The path of a file derived from `path`'s name, in the same folder: `prefix + name + suffix`
 * (e.g. `sideFilePath(db, ".migrate-lock")`, `sideFilePath(copy, "", "3-")`). When that would not
 * fit NAME_MAX (255 bytes, with 8 to spare for SQLite's `-journal`), the name is cut and tagged
 * with its hash; the same inputs always give the same path.
 */
export function sideFilePath(path: string, suffix: string, prefix = ""): string {
  const room = NAME_MAX - SPARE - Buffer.byteLength(prefix) - Buffer.byteLength(suffix);
  return join(dirname(path), prefix + fitName(basename(path), room) + suffix);
}

/** The part of a temporary name that depends only on `finalPath` and `purpose`. */
function tempPrefix(finalPath: string, purpose: string): string {
  const middle = `.${purpose}-`;
  const room = NAME_MAX - SPARE - 1 - Buffer.byteLength(middle) - TEMP_TAIL;
  return `.${fitName(basename(finalPath), room)}${middle}`;
}

/** A unique temporary name beside `finalPath`, hidden, so a crash never leaves a file under the final name. */
export function tempPathBeside(finalPath: string, purpose: string): string {
  return join(dirname(finalPath), `${tempPrefix(finalPath, purpose)}${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Removes the temporary files that `tempPathBeside(finalPath, purpose)` left behind in processes
 * that died (a crash during a backup or a restore), so they do not pile up; never one of a live process.
 */
export async function removeStaleTemps(finalPath: string, purpose: string): Promise<void> {
  const prefix = tempPrefix(finalPath, purpose);
  const names = await readdir(dirname(finalPath)).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]{8}\.tmp(-journal)?$/.exec(name.slice(prefix.length)) : null;
    if (match && !pidAlive(Number(match[1]))) await rm(join(dirname(finalPath), name), { force: true });
  }
}

/**
 * Creates the state directory 0700 when it is missing, and leaves an existing one exactly as it
 * is: it may be a folder of the service (`"stateDir": "."`), whose mode is not ours to change.
 *
 * @throws UpgradeError E_CONFIG when the path exists and is not a directory.
 */
export async function ensureStateDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "EEXIST" || err.code === "ENOTDIR") {
      throw new UpgradeError("E_CONFIG", `stateDir ${dir} exists and is not a directory`, {
        hint: "point stateDir at a directory (or a path that does not exist yet)",
        details: { dir },
        cause: err,
      });
    }
    throw err;
  });
  if (created !== undefined) await fsyncCreated(created, dir);
}

/** fsyncs the parent of every directory `mkdir -p` created, from `first` down to `last`. */
async function fsyncCreated(first: string, last: string): Promise<void> {
  for (let d = last; ; d = dirname(d)) {
    await fsyncPath(dirname(d));
    if (d === first || dirname(d) === d) return;
  }
}

/**
 * Ensures `dir` exists and is private: created 0700 when missing; an existing directory that
 * other users can enter or read is refused rather than silently re-permissioned.
 *
 * @throws UpgradeError E_BACKUP when the directory is accessible to group or others.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await fsyncCreated(created, dir);
  if (process.platform === "win32") return;
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UpgradeError("E_BACKUP", `backup directory ${dir} is accessible to other users (mode ${mode.toString(8).padStart(4, "0")})`, {
      hint: `use a private directory: chmod 700 ${dir}`,
      details: { dir, mode: mode.toString(8) },
    });
  }
}

/** Removes files, ignoring the ones that do not exist (a name too long to exist does not exist). */
export async function removeIfExists(...paths: string[]): Promise<void> {
  for (const p of paths) {
    await rm(p, { force: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENAMETOOLONG") throw err;
    });
  }
}

/** Removes a file (or a folder and everything in it) and returns the bytes its files held; 0 when it did not exist. */
export async function removeCounted(path: string): Promise<number> {
  const size = async (p: string): Promise<number> => {
    const st = await stat(p).catch(() => null);
    if (!st) return 0;
    if (!st.isDirectory()) return st.size;
    let sum = 0;
    for (const name of await readdir(p)) sum += await size(join(p, name));
    return sum;
  };
  const bytes = await size(path);
  await rm(path, { force: true, recursive: true });
  return bytes;
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
