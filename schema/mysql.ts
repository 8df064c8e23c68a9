import { bigint, int, longtext, mysqlTable, primaryKey, varchar } from "drizzle-orm/mysql-core";

/** One row per run: which target it drives and when it was requested. */
export const runs = mysqlTable("upgrade_machine_runs", {
  runId: varchar("run_id", { length: 64 }).primaryKey(),
  target: varchar("target", { length: 512 }).notNull(),
  name: varchar("name", { length: 255 }).notNull(),
  createdAt: varchar("created_at", { length: 32 }).notNull(),
  /** The target's own identity (real path, server identity and database), from its lock. */
  identity: varchar("identity", { length: 512 }),
  /** The head of the run: its last event's seq and hash, updated with each append. */
  lastSeq: int("last_seq"),
  lastHash: varchar("last_hash", { length: 64 }),
});

/** The journal: append-only events keyed `(run_id, seq)`; the primary key is the fence. */
export const events = mysqlTable(
  "upgrade_machine_events",
  {
    runId: varchar("run_id", { length: 64 }).notNull(),
    seq: int("seq").notNull(),
    type: varchar("type", { length: 64 }).notNull(),
    step: varchar("step", { length: 64 }),
    payload: longtext("payload").notNull(),
    at: varchar("at", { length: 32 }).notNull(),
    hash: varchar("hash", { length: 64 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/** One lease per target: who drives it, until when. */
export const leases = mysqlTable("upgrade_machine_leases", {
  target: varchar("target", { length: 512 }).primaryKey(),
  owner: varchar("owner", { length: 128 }).notNull(),
  runId: varchar("run_id", { length: 64 }),
  host: varchar("host", { length: 255 }).notNull(),
  pid: int("pid").notNull(),
  /** The holder process's identity: boot id, pid namespace, pid and start time. */
  process: varchar("process", { length: 255 }),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
});
