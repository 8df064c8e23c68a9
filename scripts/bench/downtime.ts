// A run's downtime, from the stop's start to the health check's success, and each step's share
// of it. Today derived from the journal's events (the `at` times of step.started/step.succeeded);
// the one place to switch to the run result's own `downtime` field once the product has it.

import { summarize } from "./stats.js";

/** The steps between the service going down and it answering again, in order. */
export const DOWNTIME_STEPS = ["stop", "seal", "upgradePackage", "migrate", "verify", "start", "health"] as const;

/** An event as `history --json` prints it (only what is read here). */
export interface TimedEvent {
  type: string;
  step: string | null;
  at: string;
}

/** Seconds of downtime and per step (a skipped step counts 0). */
export interface Downtime {
  total: number;
  steps: Record<string, number>;
}

/**
 * The downtime of a completed run: the first `step.started` of `stop` to the last
 * `step.succeeded` of `health` (a skipped stop or health counts from its `step.succeeded`);
 * each step from its first start to its last success. Throws when the run did not get there.
 */
export function downtimeOf(events: readonly TimedEvent[]): Downtime {
  const first = (type: string, step: string) => events.find((e) => e.type === type && e.step === step);
  const last = (type: string, step: string) => [...events].reverse().find((e) => e.type === type && e.step === step);
  const t = (e: TimedEvent | undefined) => (e ? Date.parse(e.at) : Number.NaN);
  const steps: Record<string, number> = {};
  for (const step of DOWNTIME_STEPS) {
    const done = last("step.succeeded", step);
    if (!done) throw new Error(`the run has no step.succeeded of ${step}: it did not complete`);
    const began = first("step.started", step) ?? done;
    steps[step] = (t(done) - t(began)) / 1000;
  }
  const begin = first("step.started", "stop") ?? first("step.succeeded", "stop");
  const total = (t(last("step.succeeded", "health")) - t(begin)) / 1000;
  return { total, steps };
}

/** `stop 1.34, seal 3.74, ...` (seconds), for a row's note. */
export function splitText(steps: Record<string, number>[]): string {
  const names = Object.keys(steps[0] ?? {});
  return names.map((n) => `${n} ${summarize(steps.map((s) => s[n] ?? 0)).median.toFixed(2)}`).join(", ");
}
