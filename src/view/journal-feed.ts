import { latestRun } from "../journal/latest-run.js";
import type { JournalStore, RunRecord } from "../journal/types.js";
import { eventRows, runSummary, type EventRow, type FoldedPrefix, type RunSummary } from "./run-view.js";

/** One run with every event row, as `/api/run/:id` returns it. */
export interface RunDetail {
  run: RunSummary;
  rows: EventRow[];
}

/**
 * Reads the journal for the live view. The journal is read as it is on disk, by another process
 * or this one; a run's rows are recomputed only when its last hash or length changed.
 */
export class JournalFeed {
  private readonly cache = new Map<string, RunDetail & { folded: FoldedPrefix | undefined }>();

  constructor(
    private readonly store: JournalStore,
    /** The secret-free target id the runs are listed under. */
    readonly target: string,
  ) {}

  /** The newest run's id, or null before the first run. */
  async latestRunId(): Promise<string | null> {
    return (await latestRun(this.store, this.target))?.runId ?? null;
  }

  /** Every run of the target, newest first; finished runs are folded once and then cached. */
  async runs(): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    for (const record of await this.store.runs(this.target)) {
      const cached = this.cache.get(record.runId);
      const finished = cached && cached.run.state !== "running" && cached.run.state !== null;
      out.push(finished ? cached.run : (await this.load(record)).run);
    }
    return out;
  }

  /** One run with its rows; null when the journal has no such run of this target. */
  async run(runId: string): Promise<RunDetail | null> {
    const record = (await this.store.runs(this.target)).find((r) => r.runId === runId);
    return record ? this.load(record) : null;
  }

  private async load(record: RunRecord): Promise<RunDetail> {
    const runId = record.runId;
    const events = await this.store.read(runId);
    const head = events[events.length - 1]?.hash ?? null;
    const cached = this.cache.get(runId);
    if (cached && cached.run.head === head && cached.run.eventCount === events.length) return { run: cached.run, rows: cached.rows };
    // The earlier fold is reused only when the events it covered are still those on disk.
    const prior = cached?.folded && events[cached.folded.count - 1]?.hash === cached.run.head ? cached.folded : undefined;
    const { summary, folded } = runSummary(record, events, prior);
    const detail = { run: summary, rows: eventRows(events) };
    this.cache.set(runId, { ...detail, folded });
    return detail;
  }
}
