import type { Json, StepName } from "../../machines/index.js";
import { eventHash, verifyChain, verifyHead } from "./hash.js";
import type { EventType, JournalEvent, JournalStore, LeaseFence, RunRecord } from "./types.js";

/** An event to append; seq, time and hash are the journal's to set. */
export interface NewEvent {
  type: EventType;
  step?: StepName | null;
  payload?: { [key: string]: Json };
}

/**
 * The write side of one run's journal: appends name the seq they expect (the store's primary
 * key fences a second writer) and chain each event's hash to the one before.
 */
export class RunJournal {
  private constructor(
    private readonly store: JournalStore,
    readonly runId: string,
    private readonly log: JournalEvent[],
  ) {}

  /**
   * Reads a run's events and verifies the hash chain and the run's head (E_JOURNAL_TAMPERED when
   * an event was edited, or events after the head's were removed).
   */
  static async open(store: JournalStore, runId: string): Promise<RunJournal> {
    const [record, events] = [await store.run(runId), await store.read(runId)];
    verifyChain(events);
    if (record) verifyHead(record, events);
    return new RunJournal(store, runId, events);
  }

  /** Creates a run whose first event is `run.requested` with `payload`, atomically. */
  static async create(store: JournalStore, run: RunRecord, payload: { [key: string]: Json }, now = new Date()): Promise<RunJournal> {
    const body = { runId: run.runId, seq: 0, type: "run.requested" as const, step: null, payload, at: now.toISOString() };
    const first: JournalEvent = { ...body, hash: eventHash("", body) };
    await store.createRun(run, first);
    return new RunJournal(store, run.runId, [first]);
  }

  private fence: LeaseFence | undefined;

  /** From now on, every append is written only while `lease` is still held (else E_BUSY, nothing written). */
  fenceWith(lease: LeaseFence): this {
    this.fence = lease;
    return this;
  }

  /** The events so far, oldest first. */
  get events(): readonly JournalEvent[] {
    return this.log;
  }

  /** Appends one event; it is durable when the promise resolves. */
  async append(event: NewEvent, now: Date = new Date()): Promise<JournalEvent> {
    const prev = this.log[this.log.length - 1];
    const body = {
      runId: this.runId,
      seq: this.log.length,
      type: event.type,
      step: event.step ?? null,
      payload: event.payload ?? {},
      at: now.toISOString(),
    };
    const full: JournalEvent = { ...body, hash: eventHash(prev?.hash ?? "", body) };
    await this.store.append(full, this.fence);
    this.log.push(full);
    return full;
  }
}
