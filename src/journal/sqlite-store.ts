import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import { and, asc, desc, eq } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type BetterSqlite3 from "better-sqlite3";
import * as schema from "../../schema/sqlite.js";
import { UpgradeError } from "../errors.js";
import { journalMigrationsDir } from "../package-root.js";
import { runMigrations } from "../migrations/runner.js";
import { createSqliteAdapter } from "../adapters/sqlite/index.js";
import type { JournalEvent, JournalStore, Lease, RunRecord } from "./types.js";
import { fencedError, fromRow, toRow } from "./rows.js";

/**
 * The default journal: a SQLite file in the state directory, written with `synchronous=FULL`
 * so an append that returned survives a power loss. Its tables come from schema/sqlite.ts and
 * their drizzle-kit migrations, applied (under the migration lock) when the store opens.
 */
export async function openSqliteJournal(path: string): Promise<JournalStore> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  // Create the file first so the migration driver (which never creates databases) can open it.
  const raw = new Database(path);
  raw.pragma("journal_mode = WAL");
  raw.pragma("busy_timeout = 10000");
  const adapter = createSqliteAdapter({ path });
  try {
    await runMigrations(adapter.migrationDriver(), journalMigrationsDir("sqlite"), { lockTimeoutMs: 30_000 });
  } finally {
    await adapter.close();
  }
  raw.pragma("synchronous = FULL");
  const { drizzle } = await import("drizzle-orm/better-sqlite3");
  return new SqliteJournalStore(raw, drizzle(raw, { schema }), path);
}

class SqliteJournalStore implements JournalStore {
  constructor(
    private readonly raw: BetterSqlite3.Database,
    private readonly db: BetterSQLite3Database<typeof schema>,
    readonly display: string,
  ) {}

  async createRun(run: RunRecord, first: JournalEvent): Promise<void> {
    this.db.transaction(
      (tx) => {
        tx.insert(schema.runs).values(run).run();
        tx.insert(schema.events).values(toRow(first)).run();
      },
      { behavior: "immediate" },
    );
  }

  async runs(target?: string): Promise<RunRecord[]> {
    const q = this.db.select().from(schema.runs);
    const rows = target ? q.where(eq(schema.runs.target, target)) : q;
    return rows.orderBy(desc(schema.runs.createdAt), desc(schema.runs.runId)).all();
  }

  async read(runId: string): Promise<JournalEvent[]> {
    const rows = this.db
      .select()
      .from(schema.events)
      .where(eq(schema.events.runId, runId))
      .orderBy(asc(schema.events.seq))
      .all();
    return rows.map(fromRow);
  }

  async insert(event: JournalEvent): Promise<void> {
    try {
      this.db
        .insert(schema.events)
        .values(toRow(event))
        .run();
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
        throw fencedError(event, err);
      }
      throw journalError(err);
    }
  }

  async acquireLease(lease: Lease, canTake: (holder: Lease) => boolean) {
    return this.db.transaction(
      (tx) => {
        const holder = tx.select().from(schema.leases).where(eq(schema.leases.target, lease.target)).get();
        if (holder && !canTake(holder)) return { acquired: false as const, holder };
        tx.insert(schema.leases)
          .values(lease)
          .onConflictDoUpdate({ target: schema.leases.target, set: { ...lease } })
          .run();
        return { acquired: true as const };
      },
      { behavior: "immediate" },
    );
  }

  async renewLease(target: string, owner: string, expiresAt: number): Promise<boolean> {
    const res = this.db
      .update(schema.leases)
      .set({ expiresAt })
      .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)))
      .run();
    return res.changes === 1;
  }

  async releaseLease(target: string, owner: string): Promise<void> {
    this.db
      .delete(schema.leases)
      .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)))
      .run();
  }

  async close(): Promise<void> {
    this.raw.close();
  }
}

function journalError(err: unknown): UpgradeError {
  const code = (err as { code?: string }).code;
  if (code === "SQLITE_FULL") {
    return new UpgradeError("E_DISK_FULL", "the journal's disk is full", { hint: "free space in the state directory, then `upgrade-machine resume`", cause: err });
  }
  return new UpgradeError("E_JOURNAL", `cannot write the journal: ${(err as Error).message}`, {
    hint: "check the state directory's permissions and free space, then `upgrade-machine resume`",
    cause: err,
  });
}
