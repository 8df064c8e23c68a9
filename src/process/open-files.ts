import { readFile, readdir, readlink, realpath } from "node:fs/promises";

/** A process that has one of the files open. */
export interface FileHolder {
  pid: number;
  /** The program's name (`/proc/<pid>/comm`: never its arguments, which may hold secrets). */
  command: string;
  /** The file it holds. */
  path: string;
}

/**
 * The processes other than `exceptPids` that have any of `paths` open, found by reading every
 * `/proc/<pid>/fd/*` link (Linux). Returns null where that cannot be told (no `/proc`).
 * Processes whose descriptors cannot be read (another user's, without root) are not seen.
 */
export async function processesHolding(
  paths: readonly string[],
  exceptPids: readonly number[] = [process.pid],
): Promise<FileHolder[] | null> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return null;
  }
  const wanted = new Set<string>();
  for (const p of paths) {
    wanted.add(p);
    const real = await realpath(p).catch(() => null);
    if (real) wanted.add(real);
  }
  const holders: FileHolder[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (exceptPids.includes(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    const held = new Set<string>();
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => null);
      if (target !== null && wanted.has(target)) held.add(target);
    }
    if (held.size === 0) continue;
    const command = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "?")).trim();
    for (const path of held) holders.push({ pid, command, path });
  }
  return holders;
}
