/** A file copy at disk speed with its sha256 computed in the same pass. */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { CopyOptions } from "../adapters/types.js";
import { UpgradeError } from "../errors.js";

/** Bytes per read and write: large enough that the copy runs at the speed of `cp`. */
const CHUNK = 8 << 20;

/**
 * Copies `from` to `to` (created with `wx`, mode 0600), hashing what it copies: while one chunk
 * is hashed and written, the next is read (two 8 MiB buffers, constant memory). fsyncs the copy.
 * `stopWhen` is asked between chunks (an abort, a check of the source) and may throw.
 *
 * @returns the sha256 (hex) and size of what was copied.
 */
export async function copyFileHashed(
  from: string,
  to: string,
  options: CopyOptions & { total?: number; abortError?: (reason: unknown) => Error } = {},
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  const src = await open(from, "r");
  try {
    const dst = await open(to, "wx", 0o600);
    try {
      let buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
      let bytes = 0;
      let { bytesRead } = await src.read(buffers[0], 0, CHUNK, 0);
      while (bytesRead > 0) {
        if (options.signal?.aborted) {
          throw (
            options.abortError?.(options.signal.reason) ?? new UpgradeError("E_BACKUP", "copy aborted", { cause: options.signal.reason })
          );
        }
        const chunk = buffers[0].subarray(0, bytesRead);
        const written = dst.write(chunk, 0, bytesRead, bytes);
        const next = src.read(buffers[1], 0, CHUNK, bytes + bytesRead);
        hash.update(chunk);
        const [, nextRead] = await Promise.all([written, next]);
        bytes += bytesRead;
        bytesRead = nextRead.bytesRead;
        buffers = [buffers[1], buffers[0]];
        try {
          options.onProgress?.({ unit: "bytes", done: bytes, total: Math.max(options.total ?? 0, bytes) });
        } catch {
          // progress listeners must not break a copy
        }
      }
      await dst.sync();
      return { sha256: hash.digest("hex"), bytes };
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}
