import type { Json, StepName } from "../../machines/index.js";

/** The event types of the journal; the contract between the runner and the machine. */
export const EVENT_TYPES = [
  "run.requested",
  "step.started",
  "step.succeeded",
  "step.failed",
  "run.completed",
  "run.rolledBack",
  "run.aborted",
  "run.failed",
  "run.abandoned",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One durable event of a run. `hash` chains it to the event before it. */
export interface JournalEvent {
  runId: string;
  seq: number;
  type: EventType;
  step: StepName | null;
  payload: { [key: string]: Json };
  /** ISO-8601 time of the append. */
  at: string;
  /** sha256(previous hash + canonical JSON of this event without its hash), hex. */
  hash: string;
}

/** A run, as listed by the journal. */
export interface RunRecord {
  runId: string;
  /** Secret-free identity of the database being upgraded (the lease key). */
  target: string;
  /** The config's `name`. */
  name: string;
  createdAt: string;
}

/** Who drives a target, and until when (epoch milliseconds). */
export interface Lease {
  target: string;
  owner: string;
  runId: string | null;
  host: string;
  pid: number;
  expiresAt: number;
}

/**
 * Where the journal lives. Small on purpose: stores hold rows, the journal layer
 * (`journal.ts`) holds hashing, fencing and replay. One implementation per driver.
 */
export interface JournalStore {
  /** Printable, secret-free location. */
  readonly display: string;
  /** Records a run and its first event (`run.requested`) in one transaction. */
  createRun(run: RunRecord, first: JournalEvent): Promise<void>;
  /** Runs, newest first, optionally of one target. */
  runs(target?: string): Promise<RunRecord[]>;
  /** Every event of a run, by seq. */
  read(runId: string): Promise<JournalEvent[]>;
  /** Inserts the event; throws E_FENCED when `(runId, seq)` exists (another writer won). */
  insert(event: JournalEvent): Promise<void>;
  /**
   * Takes the lease when there is none, or when `canTake(holder)` says the holder's lease may be
   * taken over; atomically. Returns the holder when it could not.
   */
  acquireLease(lease: Lease, canTake: (holder: Lease) => boolean): Promise<{ acquired: true } | { acquired: false; holder: Lease }>;
  /** Extends the lease; false when `owner` no longer holds it. */
  renewLease(target: string, owner: string, expiresAt: number): Promise<boolean>;
  releaseLease(target: string, owner: string): Promise<void>;
  close(): Promise<void>;
}
