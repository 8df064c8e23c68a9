/** A file copy at disk speed with its sha256 computed in the same pass. */
import { createHash } from "node:crypto";
import { chmod, copyFile, open } from "node:fs/promises";
import type { CopyOptions } from "../adapters/types.js";
import { UpgradeError } from "../errors.js";

/** Bytes per read of the hashing pass. */
const CHUNK = 8 << 20;

/**
 * Copies `from` to `to` (a new file: created with `wx`, mode 0600 when done), hashing what it
 * copies, and fsyncs the copy. The copy is the kernel's (`copyFile`: copy_file_range or sendfile
 * in libuv's thread pool, no bytes through JavaScript), the hash a read of the source on this
 * thread at the same time: the two overlap, so the whole costs about the slower of them plus the
 * fsync, where a read-write loop paid the copy's two user-space passes beside the hash. `from`
 * must stay still while it is copied (the caller holds it: a read transaction, a stopped service),
 * so what is hashed is what is copied. libuv gives the copy the source's mode while it copies; it
 * is made 0600 before returning (the callers copy into a 0700 folder of their own, so nobody
 * else can open it meanwhile, and the source was never more private than its own mode).
 * `signal` is checked between chunks of the hash; an abort waits for the kernel's copy to end.
 *
 * @returns the sha256 (hex) and size of what was copied.
 */
export async function copyFileHashed(
  from: string,
  to: string,
  options: CopyOptions & { total?: number; abortError?: (reason: unknown) => Error } = {},
): Promise<{ sha256: string; bytes: number }> {
  await (await open(to, "wx", 0o600)).close(); // `to` must not exist yet: never overwrite
  const copying = copyFile(from, to);
  copying.catch(() => undefined); // awaited below; a hash error must not leave it unhandled
  let hashed: { sha256: string; bytes: number };
  try {
    hashed = await hashWhileCopying(from, options);
  } catch (err) {
    await copying.catch(() => undefined);
    throw err;
  }
  await copying;
  await chmod(to, 0o600);
  const dst = await open(to, "r+");
  try {
    const { size } = await dst.stat();
    if (size !== hashed.bytes) {
      throw new UpgradeError("E_BACKUP", `the copy of ${from} has ${size} bytes, the source had ${hashed.bytes} while it was hashed`, {
        hint: "something wrote to the file during the copy; the copy was not used",
      });
    }
    await dst.sync();
  } finally {
    await dst.close();
  }
  return hashed;
}

/** The source's sha256 and size, read in large chunks; progress and abort between chunks. */
async function hashWhileCopying(
  from: string,
  options: CopyOptions & { total?: number; abortError?: (reason: unknown) => Error },
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  const src = await open(from, "r");
  try {
    let buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
    let bytes = 0;
    let { bytesRead } = await src.read(buffers[0], 0, CHUNK, 0);
    while (bytesRead > 0) {
      if (options.signal?.aborted) {
        throw options.abortError?.(options.signal.reason) ?? new UpgradeError("E_BACKUP", "copy aborted", { cause: options.signal.reason });
      }
      const chunk = buffers[0].subarray(0, bytesRead);
      const next = src.read(buffers[1], 0, CHUNK, bytes + bytesRead);
      hash.update(chunk);
      bytes += bytesRead;
      bytesRead = (await next).bytesRead;
      buffers = [buffers[1], buffers[0]];
      try {
        options.onProgress?.({ unit: "bytes", done: bytes, total: Math.max(options.total ?? 0, bytes) });
      } catch {
        // progress listeners must not break a copy
      }
    }
    return { sha256: hash.digest("hex"), bytes };
  } finally {
    await src.close();
  }
}
