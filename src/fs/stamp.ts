/** A file's identity, size and times, read without reading its content: the cheap proof that it was not written. */
import { statSync } from "node:fs";

/**
 * What `stat` says of a file, as JSON (nanosecond times as decimal strings): any write to the
 * file, a replacement by another file (a rename over it) or a change of its metadata changes at
 * least one field, provided the stamp was taken once the file had settled (`settled`).
 */
export interface FileStamp {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

/** The stamp of `path` now (following links), or null when it does not exist. */
export function stampOf(path: string): FileStamp | null {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  if (!st) return null;
  return {
    dev: String(st.dev),
    ino: String(st.ino),
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
  };
}

/** True when two stamps name the same file, unwritten between them. */
export function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  if (a === null || b === null) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** The field by which two stamps of the same path differ, for a log line; null when equal. */
export function stampDifference(a: FileStamp | null, b: FileStamp | null): string | null {
  if (a === null || b === null) return a === b ? null : a === null ? "appeared" : "disappeared";
  for (const key of ["dev", "ino", "size", "mtimeNs", "ctimeNs"] as const)
    if (a[key] !== b[key]) return key === "dev" || key === "ino" ? "was replaced" : `${key} changed`;
  return null;
}

/** The margin of the racy-timestamp rule, in ns: far above any kernel's timestamp tick (1 to 10 ms). */
const MARGIN_NS = 100_000_000n;
/** The margin on a file system that keeps whole seconds (FAT keeps 2 s): every sub-second part is 0. */
const COARSE_MARGIN_NS = 2_100_000_000n;

/** The current wall-clock time in ns (the clock the kernel stamps files with). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * How long to wait, in ms, before stamps taken after `beforeNs` prove that no later write goes
 * unseen; 0 when they already do. Git's "racy timestamp" rule: the kernel stamps a write with a
 * coarse clock (it may lag the real time by one tick, 1 to 10 ms), so a write in the same tick as
 * the recorded time would leave mtime and ctime unchanged. A stamp whose newest time is at least
 * the margin older than a time read before the `stat` cannot be confused with any later write:
 * that write gets a time no earlier than `beforeNs - tick`, which is newer. ctime cannot be set
 * by a user (only mtime can, by `touch`); a clock stepped backwards defeats the rule (as for git).
 */
export function racyWaitMs(beforeNs: bigint, stamps: (FileStamp | null)[]): number {
  const present = stamps.filter((s): s is FileStamp => s !== null);
  if (present.length === 0) return 0;
  const times = present.flatMap((s) => [BigInt(s.mtimeNs), BigInt(s.ctimeNs)]);
  const coarse = times.every((t) => t % 1_000_000_000n === 0n);
  let newest = 0n;
  for (const t of times) if (t > newest) newest = t; // bigints: Math.max does not take them
  const settledAt = newest + (coarse ? COARSE_MARGIN_NS : MARGIN_NS);
  return settledAt <= beforeNs ? 0 : Number((settledAt - beforeNs) / 1_000_000n) + 1;
}

/**
 * The stamp of `path` once it has settled (see `racyWaitMs`): waits out the margin when the file
 * was written just now (at most 100 ms; 2.1 s on a file system of whole seconds). Null when it
 * does not exist, or still changes after three waits (then nothing can be proven by its stamp).
 */
export async function settledStamp(path: string): Promise<FileStamp | null> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const before = nowNs();
    const stamp = stampOf(path);
    const wait = racyWaitMs(before, [stamp]);
    if (wait === 0) return stamp;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return null;
}
