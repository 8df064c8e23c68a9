// A run's downtime, from the stop's start to the health check's success, and each step's share
// of it, as the product reports it in the run's result.

import { summarize } from "./stats.js";

/** The steps between the service going down and it answering again, in order. */
export const DOWNTIME_STEPS = ["stop", "seal", "upgradePackage", "migrate", "verify", "start", "health"] as const;

/** Seconds of downtime and per step (a step that did not run counts 0). */
export interface Downtime {
  total: number;
  steps: Record<string, number>;
}

/**
 * The downtime the product itself reports (the `downtime` of the run's result, src/runner/downtime.ts:
 * from the start of `stop` to the end of `health`, each step's share), read from the last line of
 * `run --json` / `resume --json`. Throws when the run did not complete or left the service down.
 */
export function downtimeOf(runJsonOutput: string): Downtime {
  const last = runJsonOutput.trim().split("\n").at(-1) ?? "";
  const result = JSON.parse(last) as {
    type?: string;
    state?: string;
    downtime?: { seconds: number; steps: Record<string, number>; down: boolean };
  };
  if (result.type !== "result" || result.state !== "completed" || !result.downtime || result.downtime.down) {
    throw new Error(`the run did not complete with the service back: ${last.slice(0, 300)}`);
  }
  const steps: Record<string, number> = {};
  for (const step of DOWNTIME_STEPS) steps[step] = result.downtime.steps[step] ?? 0;
  return { total: result.downtime.seconds, steps };
}

/** `stop 1.34, seal 3.74, ...` (seconds), for a row's note. */
export function splitText(steps: Record<string, number>[]): string {
  const names = Object.keys(steps[0] ?? {});
  return names.map((n) => `${n} ${summarize(steps.map((s) => s[n] ?? 0)).median.toFixed(2)}`).join(", ");
}
