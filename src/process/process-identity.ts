import { readFileSync } from "node:fs";
import { pidAlive } from "./pid.js";

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
  return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
}
