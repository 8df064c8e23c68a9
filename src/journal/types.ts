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
  "backup.pruned",
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
  /**
   * The target's own identity (`sqlite:<real path>`, or the server's identity and the database
   * name), from the target lock; null in runs written by versions before it existed.
   */
  identity?: string | null;
  /** The seq of the run's last event, moved by every append (null: written before heads existed). */
  lastSeq?: number | null;
  /** The hash of the run's last event. */
  lastHash?: string | null;
}

/** Who drives a target, and until when (epoch milliseconds). */
export interface Lease {
  target: string;
  owner: string;
  runId: string | null;
  host: string;
  pid: number;
  /**
   * Proof of the holder's life on its machine: `<boot id>/<pid namespace>/<pid>/<start time>`
   * (see runner/process-identity.ts); null when the holder could not tell.
   */
  process: string | null;
  /** Epoch ms by the journal database's clock. */
  expiresAt: number;
}

/** The lease an append must still hold to be written. */
export interface LeaseFence {
  target: string;
  owner: string;
}

/** A lease as asked for: its expiry is set by the store, from the journal database's clock. */
export type LeaseRequest = Omit<Lease, "expiresAt">;

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
  /** One run, or null. */
  run(runId: string): Promise<RunRecord | null>;
  /** Every event of a run, by seq. */
  read(runId: string): Promise<JournalEvent[]>;
  /**
   * The events of a run after `seq`, by seq (`-1`: all of them): a reader that holds the run up
   * to `seq` (the live view, a follower) reads only what was appended since.
   */
  eventsAfter(runId: string, seq: number): Promise<JournalEvent[]>;
  /**
   * Appends the event and moves the run's head to it, in one transaction. Throws E_FENCED when
   * `(runId, seq)` exists or the head is not at `seq - 1` (another writer won); with `lease`,
   * E_BUSY when that lease is no longer `owner`'s (a driver that lost its lease writes nothing).
   */
  append(event: JournalEvent, lease?: LeaseFence): Promise<void>;
  /** The journal database's clock, epoch ms: leases expire by it, whichever machine asks. */
  now(): Promise<number>;
  /**
   * Takes the lease, expiring `ttlMs` after the journal database's clock, when there is none or
   * when `canTake(holder, now)` says the holder's lease may be taken over; atomically. Returns the
   * holder when it could not.
   */
  acquireLease(
    lease: LeaseRequest,
    ttlMs: number,
    canTake: (holder: Lease, now: number) => boolean,
  ): Promise<{ acquired: true; expiresAt: number } | { acquired: false; holder: Lease }>;
  /** Extends the lease to `ttlMs` after the journal database's clock; false when `owner` no longer holds it. */
  renewLease(target: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLease(target: string, owner: string): Promise<void>;
  close(): Promise<void>;
}
