import type { StepName } from "../../machines/index.js";
import type { JournalEvent } from "../journal/types.js";

/**
 * How long the service was unavailable because of a run, and each step's share, from the
 * journal's own times (so it is the same live, after a crash and resume, and in history).
 *
 * The window opens at the first `step.started` of `stop` (a skipped stop opens none: the service
 * was not running, so the run took nothing away) and closes when the service answers healthy
 * again: the end of `health`, or of `start` when there is no health check; in an abort, the end
 * of `restartService`; in a rollback, the end of `startPrevious` (the previous version healthy
 * again; `verifyRestore` after it runs while the service serves). A run that never stopped the
 * service has 0. While the service is still down (the run is at a step inside the window, or it
 * ended without bringing the service back: `failed`, `abandoned`, no start configured) the
 * window runs to the run's last event and `down` is true.
 */
export interface Downtime {
  /** Seconds from the window's opening to its close (or the run's last event while still down). */
  seconds: number;
  /**
   * The steps that ran inside the window (skipped ones are left out), each from its first
   * start to its last result (a step interrupted by a crash includes the time until it was
   * resumed and finished): they add up to `seconds` less the gaps between steps.
   */
  steps: Partial<Record<StepName, number>>;
  /** The window's edges, as journaled: `from` the start of `stop`, `to` the end of the step that brought the service back. */
  from: string | null;
  to: string | null;
  /** True when the service was still down at the run's last event. */
  down: boolean;
}

/** The steps after which the service answers again (the run's way back up). */
const BACK_UP: readonly StepName[] = ["health", "start", "restartService", "startPrevious"];

interface Span {
  startedAt: number | null;
  finishedAt: number | null;
  finishedEvent: JournalEvent | null;
  skipped: boolean;
  succeeded: boolean;
}

function spansOf(events: readonly JournalEvent[]): Map<StepName, Span> {
  const spans = new Map<StepName, Span>();
  for (const e of events) {
    if (!e.step) continue;
    let s = spans.get(e.step);
    if (!s) {
      s = { startedAt: null, finishedAt: null, finishedEvent: null, skipped: false, succeeded: false };
      spans.set(e.step, s);
    }
    const at = Date.parse(e.at);
    if (e.type === "step.started") {
      s.startedAt ??= at;
      s.finishedAt = null;
      s.finishedEvent = null;
    } else if (e.type === "step.succeeded" || e.type === "step.failed") {
      s.finishedAt = at;
      s.finishedEvent = e;
      s.skipped = e.type === "step.succeeded" && typeof e.payload.skipped === "string";
      s.succeeded = e.type === "step.succeeded" && !s.skipped;
    }
  }
  return spans;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/** The downtime of a run, from its events (see `Downtime`). */
export function downtimeOf(events: readonly JournalEvent[]): Downtime {
  const spans = spansOf(events);
  const stop = spans.get("stop");
  if (!stop || stop.startedAt === null || stop.skipped) return { seconds: 0, steps: {}, from: null, to: null, down: false };
  const from = stop.startedAt;
  // `start` brings the service back only when there is no health check to wait for.
  const backUp = BACK_UP.filter((step) => step !== "start" || spans.get("health")?.skipped)
    .map((step) => spans.get(step))
    .filter((s): s is Span & { finishedAt: number } => !!s?.succeeded && s.finishedAt !== null && s.finishedAt >= from)
    .sort((a, b) => a.finishedAt - b.finishedAt)[0];
  const last = events[events.length - 1]!;
  const to = backUp ? backUp.finishedAt : Date.parse(last.at);
  const steps: Downtime["steps"] = {};
  for (const [step, s] of spans) {
    if (s.startedAt === null || s.startedAt < from || s.startedAt > to) continue;
    steps[step] = seconds(Math.min(s.finishedAt ?? to, to) - s.startedAt);
  }
  return {
    seconds: seconds(to - from),
    steps,
    from: new Date(from).toISOString(),
    to: backUp ? backUp.finishedEvent!.at : last.at,
    down: !backUp,
  };
}
