import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempPathBeside } from "../fs/durable.js";
import { sameProcessAlive } from "./identity.js";

/**
 * What a start step launched, written durably right after the spawn (before the settle window),
 * so that a run resumed after a crash can find the process instead of starting a second one.
 */
export interface StartRecord {
  runId: string;
  /** The step that started it (`start`, `startPrevious`, `restartService`). */
  step: string;
  attempt: number;
  argv: string[];
  pid: number;
  /** From /proc/<pid>/stat: with the pid, it names this process and no later one with the same pid. */
  startTime: string | null;
  /**
   * `settling`: spawned, the settle window not over; `running`: still running after it (the
   * service itself, in the foreground: its pid is the service's); `exited`: it exited 0 within
   * the window (a start command that daemonises: its pid is not the service's).
   */
  state: "settling" | "running" | "exited";
  at: string;
}

/** Where the record of `step`'s start lives: `<stateDir>/run/<step>.json`. */
export function startRecordPath(stateDir: string, step: string): string {
  return join(stateDir, "run", `${step}.json`);
}

/** Writes the record: a temp file, fsynced, renamed over the old one, the folder fsynced. */
export function writeStartRecord(path: string, record: StartRecord): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tempPathBeside(path, "write");
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } catch {
    // some platforms refuse to fsync a directory; the rename is done
  } finally {
    closeSync(dir);
  }
}

/** The record at `path` when it belongs to `runId` (any run's when null); null when missing, unreadable or another run's. */
export function readStartRecord(path: string, runId: string | null): StartRecord | null {
  try {
    const rec = JSON.parse(readFileSync(path, "utf8")) as StartRecord;
    return (runId === null || rec.runId === runId) && Number.isInteger(rec.pid) ? rec : null;
  } catch {
    return null;
  }
}

/** The steps that start the service; each records what it started. */
const START_STEPS = ["start", "startPrevious", "restartService"] as const;

/**
 * The processes that runs of this state directory started as the service (in the foreground,
 * or still in their settle window) and that still run, whichever run recorded them: the
 * service's pid as far as this tool knows it, for a stop to wait for.
 */
export function liveRecordedServices(stateDir: string): StartRecord[] {
  return START_STEPS.map((step) => readStartRecord(startRecordPath(stateDir, step), null)).filter(
    (rec): rec is StartRecord => rec !== null && rec.state !== "exited" && sameProcessAlive(rec.pid, rec.startTime),
  );
}

/**
 * The recorded process when it may be the service and still runs (same pid and start time);
 * null when it exited, daemonised (`exited`: its pid is not the service's), or was never recorded.
 */
export function liveStartedProcess(path: string, runId: string): StartRecord | null {
  const rec = readStartRecord(path, runId);
  if (!rec || rec.state === "exited") return null;
  return sameProcessAlive(rec.pid, rec.startTime) ? rec : null;
}
