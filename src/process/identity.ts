import { readFileSync, readlinkSync } from "node:fs";
import { pidAlive } from "./pid.js";

function read(fn: () => string): string | null {
  try {
    return fn().trim();
  } catch {
    return null;
  }
}

/** This boot of this machine (Linux: a random id per boot; a cloned VM gets its own). */
export function bootId(): string | null {
  return read(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"));
}

/** The pid namespace of this process (containers have their own): pids mean something only within it. */
export function pidNamespace(): string | null {
  const link = read(() => readlinkSync("/proc/self/ns/pid"));
  return link ? (/\[(\d+)\]/.exec(link)?.[1] ?? link) : null;
}

/**
 * The start time of process `pid` (field 22 of `/proc/<pid>/stat`: clock ticks since boot), or
 * null when it cannot be read (no such process, or no `/proc`). Together with the pid it names
 * one process: a pid reused by another process has another start time.
 */
export function processStartTime(pid: number): string | null {
  const stat = readStat(pid);
  return stat?.[19] ?? null;
}

/**
 * True while the process that had `pid` and `startTime` still runs (a zombie does not count).
 * Without `/proc` (startTime null) only the pid can be checked.
 */
export function sameProcessAlive(pid: number, startTime: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (startTime === null) return pidAlive(pid);
  const stat = readStat(pid);
  if (stat === null) return false;
  return stat[0] !== "Z" && stat[19] === startTime;
}

/** The fields of /proc/<pid>/stat after the command name: [0] is field 3 (state). */
function readStat(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
  return text
    .slice(text.lastIndexOf(")") + 2)
    .trim()
    .split(" ");
}

/**
 * A process's identity that proves life or death on this machine: `<boot id>/<pid namespace>/<pid>/<start time>`.
 * Null where the platform does not tell (no /proc), so no death can be proven.
 */
export function processIdentity(pid = process.pid): string | null {
  const boot = bootId();
  const ns = pidNamespace();
  const start = processStartTime(pid);
  return boot && ns && start ? `${boot}/${ns}/${pid}/${start}` : null;
}

/**
 * True only when `identity` names a process of this boot and pid namespace that no longer
 * exists (gone, or its pid reused by a process that started at another time). Anything else
 * (another machine, another container, a clone, an unknown platform) proves nothing: false.
 */
export function provenDead(identity: string | null): boolean {
  if (!identity) return false;
  const [boot, ns, pidText, start] = identity.split("/");
  if (!boot || !ns || !pidText || !start || boot !== bootId() || ns !== pidNamespace()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return !sameProcessAlive(pid, start);
}
