import { readFileSync, readdirSync } from "node:fs";
import { sameProcessAlive } from "./identity.js";

/** Seconds-to-milliseconds limit of every timer: Node's setTimeout overflows above 2^31-1 ms. */
export const MAX_TIMEOUT_MS = 7 * 24 * 3600 * 1000;

/** How long a process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;

/** How long SIGKILL may take before the group is given up on (a process in uninterruptible sleep). */
const KILL_WAIT_MS = 1_000;

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

/**
 * True while a process of group `pgid` is alive. Zombies do not count: an orphaned grandchild
 * stays a zombie where PID 1 does not reap (containers, microVMs), yet it runs nothing. Linux
 * reads /proc; elsewhere any member, zombie or not, counts.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")"
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/**
 * Ends every process of group `pgid`: SIGTERM, then SIGKILL to whatever is still alive after
 * `graceMs`. Resolves when no process of the group is alive, or a second after the SIGKILL.
 */
export async function terminateGroup(pgid: number, graceMs = KILL_GRACE_MS): Promise<{ killed: boolean; survived: boolean }> {
  signalGroup(pgid, "SIGTERM");
  // a stopped process acts on SIGTERM only once continued
  signalGroup(pgid, "SIGCONT");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return { killed: false, survived: false };
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
  if (!groupAlive(pgid)) return { killed: false, survived: false };
  signalGroup(pgid, "SIGKILL");
  const hard = Date.now() + KILL_WAIT_MS;
  while (Date.now() < hard) {
    if (!groupAlive(pgid)) return { killed: true, survived: false };
    await sleep(20);
  }
  return { killed: true, survived: groupAlive(pgid) };
}

// Commands run in their own process groups, so a Ctrl-C in the terminal no longer reaches them
// directly: while any runs, SIGINT/SIGTERM/SIGHUP to the orchestrator are passed on to them.
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const live = new Set<number>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const pgid of live) signalGroup(pgid, signal);
  uninstall();
  // nobody else handles it: die of it, as without this handler
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function onExit(): void {
  for (const pgid of live) signalGroup(pgid, "SIGKILL");
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of FORWARDED) process.on(s, onSignal);
  process.on("exit", onExit);
}

function uninstall(): void {
  installed = false;
  for (const s of FORWARDED) process.off(s, onSignal);
  process.off("exit", onExit);
}

/**
 * Registers a running command's group until the returned function is called: a signal that
 * ends the orchestrator (or its exit) is passed on to the group, so no command outlives it.
 */
export function trackGroup(pgid: number): () => void {
  live.add(pgid);
  install();
  return () => {
    if (!live.delete(pgid)) return;
    if (live.size === 0) uninstall();
  };
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

/** What `terminateRecorded` did. */
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
export async function terminateRecorded(pid: number, startTime: string | null, graceMs: number): Promise<Termination> {
  const signals: NodeJS.Signals[] = [];
  for (const [signal, waitMs] of [
    ["SIGTERM", graceMs],
    ["SIGKILL", 5_000],
  ] as const) {
    if (!sameProcessAlive(pid, startTime)) return { signals, gone: true };
    signalGroup(pid, signal);
    signals.push(signal);
    if (await waitProcessGone(pid, startTime, waitMs)) return { signals, gone: true };
  }
  return { signals, gone: !sameProcessAlive(pid, startTime) };
}
