import { RunJournal } from "../journal/journal.js";
import type { JournalStore } from "../journal/types.js";
import { foldJournal } from "../runner/fold.js";
import { maybeOutputOf } from "../steps/output-of.js";
import type { RehearseOutput } from "../steps/outputs.js";

/** The downtime the migrations are expected to take, and where the figure comes from. */
export interface DowntimeEstimate {
  /** Seconds the migrations took on the rehearsal's copy. */
  migrationSeconds: number;
  /** `rehearsal now` (`plan --rehearse`) or `run <id>` (the last rehearsal of this target in the journal). */
  source: string;
  /** The version that rehearsal migrated to (null when the run named none). */
  toVersion: string | null;
  /** The migrations it applied. */
  applied: string[];
}

/**
 * The last completed rehearsal of this target in the journal, as an estimate: the newest run
 * whose rehearse step succeeded (not skipped), preferring one to `toVersion` when it is given.
 * A run whose journal cannot be read is passed over. Null when there is none.
 */
export async function lastRehearsal(store: JournalStore, target: string, toVersion: string | null): Promise<DowntimeEstimate | null> {
  let newest: DowntimeEstimate | null = null;
  for (const run of await store.runs(target)) {
    let out: RehearseOutput | undefined;
    let runTo: string | null = null;
    try {
      const { events } = await RunJournal.open(store, run.runId);
      const context = foldJournal(events).context;
      out = maybeOutputOf(context, "rehearse");
      runTo = context.toVersion;
    } catch {
      continue; // a run whose journal is not trusted gives no estimate
    }
    if (!out) continue;
    const estimate = { migrationSeconds: out.seconds, source: `run ${run.runId}`, toVersion: runTo, applied: out.applied };
    if (toVersion === null || runTo === toVersion) return estimate;
    newest ??= estimate;
  }
  return newest;
}
