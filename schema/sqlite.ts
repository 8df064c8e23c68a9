import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per run: which target it drives and when it was requested. */
export const runs = sqliteTable("upgrade_machine_runs", {
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

/**
 * The journal: append-only events keyed `(run_id, seq)`. The primary key is the fence: an
 * append names the seq it expects, and a second writer with the same seq fails.
 */
export const events = sqliteTable(
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
export const leases = sqliteTable("upgrade_machine_leases", {
  target: text("target").primaryKey(),
  owner: text("owner").notNull(),
  runId: text("run_id"),
  host: text("host").notNull(),
  pid: integer("pid").notNull(),
  /** The holder process's identity: boot id, pid namespace, pid and start time. */
  process: text("process"),
  expiresAt: integer("expires_at").notNull(),
});
