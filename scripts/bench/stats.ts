// The pure parts of the benchmark: summaries of repeated measurements, ratios against a
// baseline, and whether a goal is met. No I/O here (test/bench-report.test.ts covers it).

/** Repeated measurements of one quantity, summarised. */
export interface Sample {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in the order taken. */
  values: number[];
}

/** The median (the mean of the two middle values for an even count), min and max; E on an empty list. */
export function summarize(values: readonly number[]): Sample {
  if (!values.length || values.some((v) => !Number.isFinite(v))) throw new Error(`cannot summarise ${JSON.stringify(values)}`);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, values: [...values] };
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) throw new Error("percentile of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))]!;
}

/**
 * A goal of a row: on the ratio ours/baseline (`ratio`) or on our own median (`value`, in the
 * row's unit), with `<=` or `<` a limit.
 */
export interface Goal {
  on: "ratio" | "value";
  op: "<=" | "<";
  limit: number;
}

/** The goal as the table prints it: `≤ 0.35×`, `< 200 MB`. */
export function goalText(goal: Goal | null, unit: string): string {
  if (!goal) return "–";
  const op = goal.op === "<=" ? "≤" : "<";
  return goal.on === "ratio" ? `${op} ${goal.limit}×` : `${op} ${goal.limit} ${unit}`;
}

/** ours / baseline on the medians; null without a baseline (or a zero one). */
export function ratioOf(ours: Sample, baseline: Sample | null): number | null {
  if (!baseline || baseline.median === 0) return null;
  return ours.median / baseline.median;
}

/** Whether the goal is met; null when there is no goal or nothing to judge it on. */
export function goalMet(goal: Goal | null, ours: Sample, ratio: number | null): boolean | null {
  if (!goal) return null;
  const x = goal.on === "ratio" ? ratio : ours.median;
  if (x === null) return null;
  return goal.op === "<=" ? x <= goal.limit : x < goal.limit;
}
