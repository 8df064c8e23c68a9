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

/** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat); null when unknown. */
export function processStartTime(pid: number): string | null {
  const stat = read(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
  if (!stat) return null;
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null;
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
  if (!pidAlive(pid)) return true;
  const now = processStartTime(pid);
  return now !== null && now !== start;
}
