import { latestRun } from "../journal/latest-run.js";
import type { JournalEvent, JournalStore, RunRecord } from "../journal/types.js";
import { eventRows, runSummary, type EventRow, type FoldedPrefix, type RunSummary } from "./run-view.js";

/** One run with every event row, as `/api/run/:id` returns it. */
export interface RunDetail {
  run: RunSummary;
  rows: EventRow[];
}

interface Cached extends RunDetail {
  /** The events read so far, oldest first. */
  events: JournalEvent[];
  /** The fold of `events`; undefined when they could not be trusted (a problem). */
  folded: FoldedPrefix | undefined;
}

/**
 * Reads the journal for the live view. The journal is read as it is on disk, by another process
 * or this one. A run is read whole once; after that, only the events after the last one held
 * (`eventsAfter`), verified against its hash and folded on from where the fold ended, and not at
 * all while the run's head (last seq and hash) is the last event held. A head that moved
 * backwards or to another hash (events removed or rewritten) is read, verified and folded whole
 * again. An old event edited in place while the view runs shows on the view's next start.
 */
export class JournalFeed {
  private readonly cache = new Map<string, Cached>();

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

  /** The run's events, and whether they extend the cached ones (which they start with). */
  private async eventsOf(record: RunRecord, cached: Cached | undefined): Promise<{ events: JournalEvent[]; extends: boolean }> {
    const last = cached?.events.at(-1);
    if (cached && last && record.lastSeq !== null && record.lastSeq !== undefined) {
      if (record.lastSeq === last.seq && record.lastHash === last.hash) return { events: cached.events, extends: true };
      if (record.lastSeq > last.seq) {
        const more = await this.store.eventsAfter(record.runId, last.seq);
        if (more[0]?.seq === last.seq + 1) return { events: [...cached.events, ...more], extends: true };
      }
    }
    return { events: await this.store.read(record.runId), extends: false };
  }

  private async load(record: RunRecord): Promise<RunDetail> {
    const runId = record.runId;
    const cached = this.cache.get(runId);
    const { events, extends: extended } = await this.eventsOf(record, cached);
    const head = events[events.length - 1]?.hash ?? null;
    if (cached && cached.run.head === head && cached.run.eventCount === events.length) return { run: cached.run, rows: cached.rows };
    // The earlier fold goes on only over events that extend those it covered.
    const prior = extended && cached?.folded?.count === cached?.events.length ? cached?.folded : undefined;
    const { summary, folded } = runSummary(record, events, prior);
    const rows = prior && cached ? [...cached.rows, ...eventRows(events, cached.rows.length)] : eventRows(events);
    const detail = { run: summary, rows };
    this.cache.set(runId, { ...detail, events, folded });
    return detail;
  }
}
