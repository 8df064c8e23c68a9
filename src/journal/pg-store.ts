import { and, asc, desc, eq, isNull, or, sql as raw } from "drizzle-orm";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import * as schema from "../../schema/pg.js";
import { openPg, pgError, type PgSql, type PostgresTarget } from "../adapters/postgres/connection.js";
import { createPostgresMigrationDriver } from "../adapters/postgres/migration-driver.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { runMigrations } from "../migrations/runner.js";
import { journalMigrationsDir } from "../package-root.js";
import { describeTarget } from "../url.js";
import type { JournalEvent, JournalStore, Lease, LeaseFence, LeaseRequest, RunRecord } from "./types.js";
import { fencedError, fromRow, leaseLostError, toRow } from "./rows.js";

/** The server's clock in epoch milliseconds. */
const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** The SQLSTATE (or driver code) of an error, looking through drizzle's DrizzleQueryError. */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code;
}

/**
 * A journal in a PostgreSQL database of its own (shared by several machines): the tables of
 * schema/pg.ts, created by their drizzle-kit migrations (schema/migrations/pg), applied by
 * `runMigrations` under the advisory lock when the store opens, so two processes opening a new
 * journal at once are safe. The database must exist.
 *
 * @throws UpgradeError E_CONNECT, E_AUTH, E_NOT_FOUND (with the command to create it), E_JOURNAL.
 */
export async function openPostgresJournal(target: PostgresTarget): Promise<JournalStore> {
  const sql = await openPg(target, 4);
  try {
    await sql`SELECT 1`;
    const driver = createPostgresMigrationDriver({ target, connection: async () => sql });
    await runMigrations(driver, journalMigrationsDir("pg"), { lockTimeoutMs: 30_000 });
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    const mapped = pgError(err, target, "opening the journal", "E_JOURNAL");
    if (isUpgradeError(mapped, "E_NOT_FOUND")) {
      throw new UpgradeError("E_NOT_FOUND", `the journal database ${JSON.stringify(target.database)} does not exist`, {
        hint: `create it once: CREATE DATABASE ${JSON.stringify(target.database)}; (upgrade-machine creates its tables)`,
        cause: err,
      });
    }
    throw mapped;
  }
  const { drizzle } = await import("drizzle-orm/postgres-js");
  return new PostgresJournalStore(sql, drizzle(sql, { schema }), target);
}

class PostgresJournalStore implements JournalStore {
  readonly display: string;

  constructor(
    private readonly sql: PgSql,
    private readonly db: PostgresJsDatabase<typeof schema>,
    private readonly target: PostgresTarget,
  ) {
    this.display = describeTarget(target);
  }

  private fail(err: unknown, what: string): UpgradeError {
    return pgError((err as { cause?: unknown }).cause ?? err, this.target, what, "E_JOURNAL");
  }

  async createRun(run: RunRecord, first: JournalEvent): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await tx.insert(schema.runs).values({ ...run, lastSeq: first.seq, lastHash: first.hash });
        await tx.insert(schema.events).values(toRow(first));
      });
    } catch (err) {
      throw this.fail(err, `creating run ${run.runId}`);
    }
  }

  async runs(target?: string): Promise<RunRecord[]> {
    const q = this.db.select().from(schema.runs);
    const rows = target ? q.where(eq(schema.runs.target, target)) : q;
    return rows.orderBy(desc(schema.runs.createdAt), desc(schema.runs.runId)).catch((err: unknown) => {
      throw this.fail(err, "listing runs");
    });
  }

  async run(runId: string): Promise<RunRecord | null> {
    const [row] = await this.db
      .select()
      .from(schema.runs)
      .where(eq(schema.runs.runId, runId))
      .catch((err: unknown) => {
        throw this.fail(err, `reading run ${runId}`);
      });
    return row ?? null;
  }

  async read(runId: string): Promise<JournalEvent[]> {
    const rows = await this.db
      .select()
      .from(schema.events)
      .where(eq(schema.events.runId, runId))
      .orderBy(asc(schema.events.seq))
      .catch((err: unknown) => {
        throw this.fail(err, `reading run ${runId}`);
      });
    return rows.map(fromRow);
  }

  async append(event: JournalEvent, lease?: LeaseFence): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        if (lease) {
          const held = await tx.select().from(schema.leases).where(and(eq(schema.leases.target, lease.target), eq(schema.leases.owner, lease.owner))).for("share");
          if (held.length !== 1) throw leaseLostError(event, lease.target);
        }
        const moved = await tx
          .update(schema.runs)
          .set({ lastSeq: event.seq, lastHash: event.hash })
          .where(and(eq(schema.runs.runId, event.runId), or(eq(schema.runs.lastSeq, event.seq - 1), isNull(schema.runs.lastSeq))))
          .returning({ runId: schema.runs.runId });
        if (moved.length !== 1) throw fencedError(event, null);
        await tx.insert(schema.events).values(toRow(event));
      });
    } catch (err) {
      if (isUpgradeError(err)) throw err;
      if (codeOf(err) === "23505") throw fencedError(event, err);
      throw this.fail(err, `appending event ${event.seq} of run ${event.runId}`);
    }
  }

  async now(): Promise<number> {
    try {
      const [row] = await this.sql.unsafe<{ now: string }[]>(`SELECT ${NOW_MS} AS now`);
      return Number(row!.now);
    } catch (err) {
      throw this.fail(err, "reading the clock");
    }
  }

  async acquireLease(lease: LeaseRequest, ttlMs: number, canTake: (holder: Lease, now: number) => boolean): Promise<{ acquired: true; expiresAt: number } | { acquired: false; holder: Lease }> {
    try {
      // ON CONFLICT DO NOTHING never aborts the transaction; FOR UPDATE serialises takers.
      for (let attempt = 0; attempt < 5; attempt++) {
        const result = await this.db.transaction(async (tx) => {
          const [clock] = await tx.execute<{ now: string }>(raw`SELECT ${raw.raw(NOW_MS)} AS now`);
          const now = Number(clock!.now);
          const row = { ...lease, expiresAt: now + ttlMs };
          const inserted = await tx.insert(schema.leases).values(row).onConflictDoNothing().returning({ target: schema.leases.target });
          if (inserted.length === 1) return { acquired: true as const, expiresAt: row.expiresAt };
          const [holder] = await tx.select().from(schema.leases).where(eq(schema.leases.target, lease.target)).for("update");
          if (!holder) return undefined; // released in between: try again
          if (!canTake(holder, now)) return { acquired: false as const, holder };
          await tx.update(schema.leases).set(row).where(eq(schema.leases.target, lease.target));
          return { acquired: true as const, expiresAt: row.expiresAt };
        });
        if (result) return result;
      }
    } catch (err) {
      throw this.fail(err, `taking the lease of ${lease.target}`);
    }
    throw new UpgradeError("E_BUSY", `the lease of ${lease.target} keeps changing hands`, { hint: "another driver is starting and stopping on this target; try again" });
  }

  async renewLease(target: string, owner: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db
      .update(schema.leases)
      .set({ expiresAt: raw`${raw.raw(NOW_MS)} + ${ttlMs}` })
      .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)))
      .returning({ target: schema.leases.target })
      .catch((err: unknown) => {
        throw this.fail(err, `renewing the lease of ${target}`);
      });
    return rows.length === 1;
  }

  async releaseLease(target: string, owner: string): Promise<void> {
    await this.db
      .delete(schema.leases)
      .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)))
      .catch((err: unknown) => {
        throw this.fail(err, `releasing the lease of ${target}`);
      });
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
