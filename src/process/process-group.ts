import { sameProcessAlive } from "./process-identity.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `signal` to the process group led by `pgid`; false when no such group exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    // Not a group leader (started without a session of its own): the process alone.
    try {
      process.kill(pgid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** Waits until the process (pid and start time) is gone; true when it went within `timeoutMs`. */
export async function waitProcessGone(pid: number, startTime: string | null, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (sameProcessAlive(pid, startTime)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** What `terminateGroup` did. */
export interface Termination {
  /** The signals sent to the group, in order. */
  signals: NodeJS.Signals[];
  /** The leader is gone. */
  gone: boolean;
}

/**
 * Ends a process that outlived its stop: SIGTERM to its process group, then SIGKILL to the group
 * if the leader is still there `graceMs` later. Signals go only while the leader is the very
 * process that was recorded (same pid and start time), so a reused pid is never signalled.
 */
export async function terminateGroup(pid: number, startTime: string | null, graceMs: number): Promise<Termination> {
  const signals: NodeJS.Signals[] = [];
  for (const [signal, waitMs] of [["SIGTERM", graceMs], ["SIGKILL", 5_000]] as const) {
    if (!sameProcessAlive(pid, startTime)) return { signals, gone: true };
    signalGroup(pid, signal);
    signals.push(signal);
    if (await waitProcessGone(pid, startTime, waitMs)) return { signals, gone: true };
  }
  return { signals, gone: !sameProcessAlive(pid, startTime) };
}
