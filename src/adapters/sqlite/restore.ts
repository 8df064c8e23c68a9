import { createHash } from "node:crypto";
import { chmod, chown, open, rename, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import { fsyncPath, removeIfExists, removeStaleTemps, hashFile, tempPathBeside } from "../../fs/durable.js";
import { resolveLinks } from "../../fs/links.js";
import { processesHolding } from "../../process/open-files.js";

const CHUNK = 1 << 20;

function corrupt(artifact: BackupArtifact, actual: string, bytes: number): UpgradeError {
  return new UpgradeError(
    "E_RESTORE",
    `backup ${artifact.path} is corrupt: its sha256 or size differs from the one recorded when it was written`,
    {
      hint: "do not use this file; restore from another backup (the database was not changed)",
      details: { path: artifact.path, expected: artifact.sha256, actual, expectedBytes: artifact.bytes, bytes },
    },
  );
}

/** Copies `from` to a new file `to` (mode 0600 until chmod), hashing and reporting progress; fsyncs it. */
async function copyHashed(from: string, to: string, total: number, options: CopyOptions): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  const src = await open(from, "r");
  const dst = await open(to, "wx", 0o600);
  let bytes = 0;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      if (options.signal?.aborted)
        throw new UpgradeError("E_RESTORE", "restore aborted before the database was replaced", { cause: options.signal.reason });
      const { bytesRead } = await src.read(buf, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      await dst.write(chunk, 0, bytesRead, bytes);
      bytes += bytesRead;
      try {
        options.onProgress?.({ unit: "bytes", done: bytes, total });
      } catch {
        // progress listeners must not break a restore
      }
    }
    await dst.sync();
  } finally {
    await src.close();
    await dst.close();
  }
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * E_BUSY when another process has the database or its `-wal`/`-shm`/`-journal` open: replacing
 * the file and deleting its WAL under a live connection would corrupt what that process sees
 * and writes. This process is not counted (the adapter closes its own connection first).
 */
async function refuseOpenHolders(targetPath: string): Promise<void> {
  const holders = await processesHolding([targetPath, `${targetPath}-wal`, `${targetPath}-shm`, `${targetPath}-journal`]);
  if (!holders?.length) return;
  const pids = [...new Set(holders.map((h) => h.pid))];
  const who = pids.map((pid) => `${pid} (${holders.find((h) => h.pid === pid)!.command})`).join(", ");
  throw new UpgradeError(
    "E_BUSY",
    `${targetPath} is open in process${pids.length > 1 ? "es" : ""} ${who}: it cannot be restored under them`,
    {
      hint: `stop ${pids.length > 1 ? "those processes" : "that process"} (the service, a shell, a backup job) first; the database was not changed`,
      details: { target: targetPath, pids, holders },
    },
  );
}

/**
 * Replaces the SQLite file `target` with a backup written by `backupSqlite`. When `target` is a
 * symbolic link, the real file it leads to is replaced and the link stays a link (SQLite, too,
 * works on the real file and keeps its `-wal` beside it). The artifact's sha256 is verified
 * first (a mismatch changes nothing); the file is copied beside the target (and hashed again
 * while copying), given the target's owner (as root) and mode, fsynced; the target's `-wal`,
 * `-shm` and `-journal` files are removed (a stale WAL would be replayed onto the restored
 * file), the copy is renamed over the target (atomic) and the directory fsynced. Idempotent: a crash at any point is repaired by restoring again.
 * No other process may have the target open: that is checked (Linux: every `/proc/<pid>/fd`)
 * before the copy and again just before the swap, and refused with E_BUSY, changing nothing.
 *
 * @throws UpgradeError E_RESTORE (E_DISK_FULL when the disk is full, E_BUSY while another process has it open).
 */
export async function restoreSqlite(target: string, artifact: BackupArtifact, options: CopyOptions = {}): Promise<void> {
  const targetPath = (await resolveLinks(resolve(target))).realPath;
  const verified = await hashFile(artifact.path).catch((err: unknown) => {
    throw new UpgradeError("E_RESTORE", `backup ${artifact.path} cannot be read: ${(err as Error).message}`, {
      hint: "check that the backup file exists and is readable (the database was not changed)",
      details: { path: artifact.path },
      cause: err,
    });
  });
  if (verified.sha256 !== artifact.sha256 || verified.bytes !== artifact.bytes) throw corrupt(artifact, verified.sha256, verified.bytes);

  await refuseOpenHolders(targetPath);
  const targetStat: Stats | undefined = await stat(targetPath).catch(() => undefined);
  await removeStaleTemps(targetPath, "restore");
  const tmpPath = tempPathBeside(targetPath, "restore");
  try {
    const copied = await copyHashed(artifact.path, tmpPath, artifact.bytes, options);
    // The file could have changed between the check and the copy: the copy is what counts.
    if (copied.sha256 !== artifact.sha256) throw corrupt(artifact, copied.sha256, copied.bytes);
    if (targetStat) {
      // chown first: it clears setuid/setgid bits that the chmod then puts back.
      if (process.getuid?.() === 0) await chown(tmpPath, targetStat.uid, targetStat.gid).catch(() => undefined);
      await chmod(tmpPath, targetStat.mode & 0o7777);
      await fsyncPath(tmpPath);
    }
    await refuseOpenHolders(targetPath);
    await removeIfExists(`${targetPath}-wal`, `${targetPath}-shm`, `${targetPath}-journal`);
    await rename(tmpPath, targetPath);
    await fsyncPath(dirname(targetPath));
  } catch (err) {
    await removeIfExists(tmpPath).catch(() => undefined);
    if (isUpgradeError(err)) throw err;
    const code = (err as { code?: string }).code;
    if (code === "ENOSPC") {
      throw new UpgradeError("E_DISK_FULL", `no space left restoring ${targetPath}`, {
        hint: `free space beside ${targetPath} and restore again; the backup ${artifact.path} is intact`,
        details: { target: targetPath, backup: artifact.path },
        cause: err,
      });
    }
    throw new UpgradeError("E_RESTORE", `restore of ${targetPath} from ${artifact.path} failed: ${(err as Error).message}`, {
      hint: `restore again once the cause is fixed; the backup ${artifact.path} is intact`,
      details: { target: targetPath, backup: artifact.path },
      cause: err,
    });
  }
}
