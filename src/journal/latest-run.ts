import type { JournalStore, RunRecord } from "./types.js";

/**
 * The latest run of a target: the newest of `store.runs(target)` (newest first), or null before
 * its first run. The one place that says what "the latest run" is; `status`, `history`, `resume`,
 * a new run's unfinished-run check and the live view all ask here.
 */
export async function latestRun(store: Pick<JournalStore, "runs">, target: string): Promise<RunRecord | null> {
  const [latest] = await store.runs(target);
  return latest ?? null;
}
