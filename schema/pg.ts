import { bigint, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

/** One row per run: which target it drives and when it was requested. */
export const runs = pgTable("upgrade_machine_runs", {
  runId: text("run_id").primaryKey(),
  target: text("target").notNull(),
  name: text("name").notNull(),
  createdAt: text("created_at").notNull(),
  /** The target's own identity (real path, server identity and database), from its lock. */
  identity: text("identity"),
  /** The head of the run: its last event's seq and hash, updated with each append. */
  lastSeq: integer("last_seq"),
  lastHash: text("last_hash"),
});

/** The journal: append-only events keyed `(run_id, seq)`; the primary key is the fence. */
export const events = pgTable(
  "upgrade_machine_events",
  {
    runId: text("run_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    step: text("step"),
    payload: text("payload").notNull(),
    at: text("at").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/** One lease per target: who drives it, until when. */
export const leases = pgTable("upgrade_machine_leases", {
  target: text("target").primaryKey(),
  owner: text("owner").notNull(),
  runId: text("run_id"),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  /** The holder process's identity: boot id, pid namespace, pid and start time. */
  process: text("process"),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
});

/** One row per rollout of a fleet: what it upgrades to, and its head (last seq and hash). */
export const rollouts = pgTable("upgrade_machine_rollouts", {
  rolloutId: text("rollout_id").primaryKey(),
  fleet: text("fleet").notNull(),
  toVersion: text("to_version").notNull(),
  createdAt: text("created_at").notNull(),
  lastSeq: integer("last_seq").notNull(),
  lastHash: text("last_hash").notNull(),
});

/** A rollout's journal: append-only events keyed `(rollout_id, seq)`, hash-chained like a run's. */
export const rolloutEvents = pgTable(
  "upgrade_machine_rollout_events",
  {
    rolloutId: text("rollout_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    target: text("target"),
    payload: text("payload").notNull(),
    at: text("at").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.seq] })],
);

/** Which worker drives which target of a rollout, until when (the database's clock, epoch ms). */
export const fleetClaims = pgTable(
  "upgrade_machine_fleet_claims",
  {
    rolloutId: text("rollout_id").notNull(),
    target: text("target").notNull(),
    worker: text("worker").notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.target] })],
);
