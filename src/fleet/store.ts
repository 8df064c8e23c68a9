import type { Json, RolloutEvent } from "../../machines/index.js";

/** One durable event of a rollout; `hash` chains it to the one before, as a run's events are chained. */
export interface RolloutJournalEvent {
  rolloutId: string;
  seq: number;
  type: RolloutEvent["type"];
  /** The target the event is about, when it is about one. */
  target: string | null;
  /** The machine event's fields besides `type`, and what workers add (the run, the claim's times). */
  payload: { [key: string]: Json };
  /** ISO-8601, by the journal database's clock. */
  at: string;
  hash: string;
}

/** A rollout as listed: its fleet, version, creation and head. */
export interface RolloutRecord {
  rolloutId: string;
  fleet: string;
  toVersion: string;
  createdAt: string;
  lastSeq: number;
}

/** A worker's claim on a target of a rollout, until `expiresAt` (the journal database's clock, epoch ms). */
export interface FleetClaim {
  target: string;
  worker: string;
  expiresAt: number;
}

/** An event as a worker or a command appends it: the store numbers, times and chains it. */
export type NewRolloutEvent = Pick<RolloutJournalEvent, "type" | "target" | "payload">;

/** One transaction on one rollout, its row locked (`FOR UPDATE`): every claim and append of the fleet is serialised by it. */
export interface RolloutTx {
  /** The journal database's clock at the start of the transaction, epoch ms. */
  readonly now: number;
  events(): Promise<RolloutJournalEvent[]>;
  claims(): Promise<FleetClaim[]>;
  append(event: NewRolloutEvent): Promise<RolloutJournalEvent>;
  setClaim(target: string, worker: string, expiresAt: number): Promise<void>;
  /** Drops `worker`'s claim; false when it holds none (it expired and was taken). */
  dropClaim(target: string, worker: string): Promise<boolean>;
  /** The newest run of a target key in the shared journal (as `upgrade-machine history` orders them). */
  latestRun(targetKey: string): Promise<string | null>;
}

/** One transaction with the fleet's lock held (an advisory lock on its name): at most one unfinished rollout is ever made. */
export interface FleetTx {
  readonly now: number;
  latest(): Promise<RolloutRecord | null>;
  events(rolloutId: string): Promise<RolloutJournalEvent[]>;
  create(rollout: { rolloutId: string; fleet: string; toVersion: string }, first: NewRolloutEvent): Promise<void>;
}

/** The shared fleet journal (rollouts, their events, claims), in the PostgreSQL journal database. */
export interface FleetStore {
  readonly display: string;
  withFleet<T>(fleet: string, fn: (tx: FleetTx) => Promise<T>): Promise<T>;
  /** Runs `fn` with the rollout's row locked; E_NOT_FOUND when there is no such rollout. */
  withRollout<T>(rolloutId: string, fn: (tx: RolloutTx) => Promise<T>): Promise<T>;
  rollouts(fleet: string): Promise<RolloutRecord[]>;
  events(rolloutId: string): Promise<RolloutJournalEvent[]>;
  /** The rollout's events with `seq` greater than `afterSeq`, oldest first (a reader that holds the rest). */
  eventsAfter(rolloutId: string, afterSeq: number): Promise<RolloutJournalEvent[]>;
  /** The newest run of each of these target keys in the shared journal, by key (keys with no run are absent). */
  latestRuns(targetKeys: readonly string[]): Promise<Map<string, string>>;
  /** Extends `worker`'s claim to `ttlMs` after the database's clock; false when it no longer holds it. */
  renewClaim(rolloutId: string, target: string, worker: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}
