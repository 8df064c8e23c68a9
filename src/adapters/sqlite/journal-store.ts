import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import { and, desc, eq, getTableName } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type BetterSqlite3 from "better-sqlite3";
import * as schema from "../../../schema/sqlite.js";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import { journalMigrationsDir } from "../../package-root.js";
import { runMigrations } from "../../migrations/runner.js";
import { createSqliteAdapter } from "./adapter.js";
import type { JournalEvent, JournalStore, Lease, LeaseFence, LeaseRequest, RunRecord } from "../../journal/types.js";
import { fencedError, fromRow, leaseLostError, toRow } from "../../journal/rows.js";

/**
 * The default journal: a SQLite file in the state directory, written with `synchronous=FULL`
 * so an append that returned survives a power loss. Its tables come from schema/sqlite.ts and
 * their drizzle-kit migrations, applied (under the migration lock) when the store opens. The
 * file and its -wal/-shm are 0600; a file that is not a journal is E_JOURNAL.
 */
export async function openSqliteJournal(path: string): Promise<JournalStore> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  const created = !existsSync(path);
  // Created 0600 before SQLite writes anything; SQLite gives -wal and -shm the file's mode.
  closeSync(openSync(path, "a", 0o600));
  if (created) chmodSync(path, 0o600);
  let raw: BetterSqlite3.Database | undefined;
  try {
    raw = new Database(path);
    raw.pragma("journal_mode = WAL");
    raw.pragma("busy_timeout = 10000");
    const adapter = createSqliteAdapter({ path });
    try {
      await runMigrations(adapter.migrationDriver(), journalMigrationsDir("sqlite"), { lockTimeoutMs: 30_000 });
    } finally {
      await adapter.close();
    }
    raw.pragma("synchronous = FULL");
  } catch (err) {
    raw?.close();
    throw unreadable(path, err);
  }
  const { drizzle } = await import("drizzle-orm/better-sqlite3");
  return new SqliteJournalStore(raw, drizzle(raw, { schema }), path);
}

function unreadable(path: string, err: unknown): UpgradeError {
  if (isUpgradeError(err) && (err.code === "E_CHECKSUM" || err.code === "E_MIGRATION_ORDER" || err.code === "E_LOCKED")) return err;
  return new UpgradeError("E_JOURNAL", `the journal ${path} cannot be read: ${(err as Error).message}`, {
    hint: "the file is not an upgrade-machine journal (or is damaged): point `journal` or `stateDir` elsewhere, or restore the journal from a copy; nothing was changed",
    details: { path },
    cause: err,
  });
}

/** SQL of the hot path, prepared once per store: an append costs its fsync, not query building. */
function statements(raw: BetterSqlite3.Database) {
  const [R, E, L] = [schema.runs, schema.events, schema.leases];
  const [runs, events, leases] = [getTableName(R), getTableName(E), getTableName(L)];
  const headAt = `${R.runId.name} = ? AND (${R.lastSeq.name} = ? OR ${R.lastSeq.name} IS NULL)`;
  const eventColumns = [E.runId, E.seq, E.type, E.step, E.payload, E.at, E.hash].map((c) => c.name).join(", ");
  return {
    leaseHeld: raw.prepare(`SELECT 1 FROM ${leases} WHERE ${L.target.name} = ? AND ${L.owner.name} = ?`).pluck(),
    moveHead: raw.prepare(`UPDATE ${runs} SET ${R.lastSeq.name} = ?, ${R.lastHash.name} = ? WHERE ${headAt}`),
    // The lease check folded into the head's move: one statement on the hot path; why it
    // matched nothing (lease or head) is asked only then.
    moveHeadLeased: raw.prepare(
      `UPDATE ${runs} SET ${R.lastSeq.name} = ?, ${R.lastHash.name} = ? WHERE ${headAt} AND EXISTS (SELECT 1 FROM ${leases} WHERE ${L.target.name} = ? AND ${L.owner.name} = ?)`,
    ),
    insertEvent: raw.prepare(`INSERT INTO ${events} (${eventColumns}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    eventsAfter: raw.prepare(
      `SELECT ${eventColumns} FROM ${events} WHERE ${E.runId.name} = ? AND ${E.seq.name} > ? ORDER BY ${E.seq.name}`,
    ),
  };
}

/** An events row as SQLite returns it (snake_case columns). */
interface RawEventRow {
  run_id: string;
  seq: number;
  type: string;
  step: string | null;
  payload: string;
  at: string;
  hash: string;
}

const eventOf = (r: RawEventRow): JournalEvent =>
  fromRow({ runId: r.run_id, seq: r.seq, type: r.type, step: r.step, payload: r.payload, at: r.at, hash: r.hash });

class SqliteJournalStore implements JournalStore {
  private readonly sql: ReturnType<typeof statements>;
  /** The append, in one IMMEDIATE transaction: the head moved from `seq - 1` while the lease is held, the row. */
  private readonly appendTx: BetterSqlite3.Transaction<(event: JournalEvent, lease: LeaseFence | undefined) => void>;

  constructor(
    private readonly raw: BetterSqlite3.Database,
    private readonly db: BetterSQLite3Database<typeof schema>,
    readonly display: string,
  ) {
    this.sql = statements(raw);
    this.appendTx = raw.transaction((event: JournalEvent, lease: LeaseFence | undefined) => {
      const head = [event.seq, event.hash, event.runId, event.seq - 1] as const;
      const moved = lease ? this.sql.moveHeadLeased.run(...head, lease.target, lease.owner) : this.sql.moveHead.run(...head);
      if (moved.changes !== 1) {
        if (lease && this.sql.leaseHeld.get(lease.target, lease.owner) === undefined) throw leaseLostError(event, lease.target);
        throw fencedError(event, null);
      }
      const row = toRow(event);
      this.sql.insertEvent.run(row.runId, row.seq, row.type, row.step, row.payload, row.at, row.hash);
    });
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isUpgradeError(err)) throw err;
      throw journalError(err, what);
    }
  }

  async createRun(run: RunRecord, first: JournalEvent): Promise<void> {
    this.guard(`creating run ${run.runId}`, () =>
      this.db.transaction(
        (tx) => {
          tx.insert(schema.runs)
            .values({ ...run, lastSeq: first.seq, lastHash: first.hash })
            .run();
          tx.insert(schema.events).values(toRow(first)).run();
        },
        { behavior: "immediate" },
      ),
    );
  }

  async runs(target?: string): Promise<RunRecord[]> {
    return this.guard("listing runs", () => {
      const q = this.db.select().from(schema.runs);
      const rows = target ? q.where(eq(schema.runs.target, target)) : q;
      return rows.orderBy(desc(schema.runs.createdAt), desc(schema.runs.runId)).all();
    });
  }

  async run(runId: string): Promise<RunRecord | null> {
    return this.guard(`reading run ${runId}`, () => this.db.select().from(schema.runs).where(eq(schema.runs.runId, runId)).get() ?? null);
  }

  async read(runId: string): Promise<JournalEvent[]> {
    return this.eventsAfter(runId, -1);
  }

  async eventsAfter(runId: string, seq: number): Promise<JournalEvent[]> {
    return this.guard(`reading run ${runId}`, () => (this.sql.eventsAfter.all(runId, seq) as RawEventRow[]).map(eventOf));
  }

  async append(event: JournalEvent, lease?: LeaseFence): Promise<void> {
    try {
      this.appendTx.immediate(event, lease);
    } catch (err) {
      if (isUpgradeError(err)) throw err;
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw fencedError(event, err);
      throw journalError(err, `appending event ${event.seq} of run ${event.runId}`);
    }
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async acquireLease(lease: LeaseRequest, ttlMs: number, canTake: (holder: Lease, now: number) => boolean) {
    return this.guard(`taking the lease of ${lease.target}`, () =>
      this.db.transaction(
        (tx) => {
          const now = Date.now();
          const holder = tx.select().from(schema.leases).where(eq(schema.leases.target, lease.target)).get();
          if (holder && !canTake(holder, now)) return { acquired: false as const, holder };
          const row = { ...lease, expiresAt: now + ttlMs };
          tx.insert(schema.leases).values(row).onConflictDoUpdate({ target: schema.leases.target, set: row }).run();
          return { acquired: true as const, expiresAt: row.expiresAt };
        },
        { behavior: "immediate" },
      ),
    );
  }

  async renewLease(target: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.guard(`renewing the lease of ${target}`, () => {
      const res = this.db
        .update(schema.leases)
        .set({ expiresAt: Date.now() + ttlMs })
        .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)))
        .run();
      return res.changes === 1;
    });
  }

  async releaseLease(target: string, owner: string): Promise<void> {
    this.guard(`releasing the lease of ${target}`, () =>
      this.db
        .delete(schema.leases)
        .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)))
        .run(),
    );
  }

  async close(): Promise<void> {
    this.raw.close();
  }
}

function journalError(err: unknown, what: string): UpgradeError {
  const code = (err as { code?: string }).code;
  if (code === "SQLITE_FULL") {
    return new UpgradeError("E_DISK_FULL", "the journal's disk is full", {
      hint: "free space in the state directory, then `upgrade-machine resume`",
      cause: err,
    });
  }
  return new UpgradeError("E_JOURNAL", `journal: ${what} failed: ${(err as Error).message}`, {
    hint: "check the state directory's permissions and free space, then `upgrade-machine resume`",
    cause: err,
  });
}
