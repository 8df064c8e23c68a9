import { and, asc, desc, eq, isNull, or, sql as raw } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import * as schema from "../../schema/mysql.js";
import { mysqlError, openMysql, type MysqlPool, type MysqlTarget } from "../adapters/mysql/connection.js";
import { createMysqlMigrationDriver } from "../adapters/mysql/migration-driver.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { runMigrations } from "../migrations/runner.js";
import { journalMigrationsDir } from "../package-root.js";
import { describeTarget } from "../url.js";
import type { JournalEvent, JournalStore, Lease, LeaseFence, LeaseRequest, RunRecord } from "./types.js";
import { fencedError, fromRow, leaseLostError, toRow } from "./rows.js";

/** The server's clock in epoch milliseconds. */
const NOW_MS = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED)";

/** mysql2's error code, looking through drizzle's DrizzleQueryError. */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code;
}

/**
 * A journal in a MySQL / MariaDB database of its own (shared by several machines): the tables
 * of schema/mysql.ts, created by their drizzle-kit migrations (schema/migrations/mysql), applied
 * by `runMigrations` under `GET_LOCK` when the store opens, so two processes opening a new
 * journal at once are safe. The database must exist.
 *
 * @throws UpgradeError E_CONNECT, E_AUTH, E_NOT_FOUND (with the command to create it), E_JOURNAL.
 */
export async function openMysqlJournal(target: MysqlTarget): Promise<JournalStore> {
  const pool = await openMysql(target, target.database, 4);
  try {
    await pool.query("SELECT 1");
    const driver = createMysqlMigrationDriver({ target, connection: async () => pool });
    await runMigrations(driver, journalMigrationsDir("mysql"), { lockTimeoutMs: 30_000 });
  } catch (err) {
    await pool.end().catch(() => undefined);
    const mapped = mysqlError(err, target, "opening the journal", "E_JOURNAL");
    if (isUpgradeError(mapped, "E_NOT_FOUND")) {
      throw new UpgradeError("E_NOT_FOUND", `the journal database ${JSON.stringify(target.database)} does not exist`, {
        hint: `create it once: CREATE DATABASE \`${target.database}\` CHARACTER SET utf8mb4; (upgrade-machine creates its tables)`,
        cause: err,
      });
    }
    throw mapped;
  }
  const { drizzle } = await import("drizzle-orm/mysql2");
  return new MysqlJournalStore(pool, drizzle(pool, { schema, mode: "default" }), target);
}

const RETRY = new Set(["ER_LOCK_DEADLOCK", "ER_DUP_ENTRY"]);

class MysqlJournalStore implements JournalStore {
  readonly display: string;

  constructor(
    private readonly pool: MysqlPool,
    private readonly db: MySql2Database<typeof schema>,
    private readonly target: MysqlTarget,
  ) {
    this.display = describeTarget(target);
  }

  private fail(err: unknown, what: string): UpgradeError {
    return mysqlError((err as { cause?: unknown }).cause ?? err, this.target, what, "E_JOURNAL");
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
          const held = await tx.select().from(schema.leases).where(and(eq(schema.leases.target, lease.target), eq(schema.leases.owner, lease.owner))).for("update");
          if (held.length !== 1) throw leaseLostError(event, lease.target);
        }
        // Matched rows, not changed rows: mysql2 connects with CLIENT_FOUND_ROWS.
        const [moved] = await tx
          .update(schema.runs)
          .set({ lastSeq: event.seq, lastHash: event.hash })
          .where(and(eq(schema.runs.runId, event.runId), or(eq(schema.runs.lastSeq, event.seq - 1), isNull(schema.runs.lastSeq))));
        if (moved.affectedRows !== 1) throw fencedError(event, null);
        await tx.insert(schema.events).values(toRow(event));
      });
    } catch (err) {
      if (isUpgradeError(err)) throw err;
      if (codeOf(err) === "ER_DUP_ENTRY") throw fencedError(event, err);
      throw this.fail(err, `appending event ${event.seq} of run ${event.runId}`);
    }
  }

  async now(): Promise<number> {
    try {
      const [rows] = await this.pool.query(`SELECT ${NOW_MS} AS now`);
      return Number((rows as { now: string }[])[0]!.now);
    } catch (err) {
      throw this.fail(err, "reading the clock");
    }
  }

  async acquireLease(lease: LeaseRequest, ttlMs: number, canTake: (holder: Lease, now: number) => boolean): Promise<{ acquired: true; expiresAt: number } | { acquired: false; holder: Lease }> {
    // SELECT ... FOR UPDATE locks the row (or the gap where it would be); two first takers can
    // deadlock on that gap or collide on the key: InnoDB rolls one back, and it tries again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction(async (tx) => {
          const [clock] = (await tx.execute(raw.raw(`SELECT ${NOW_MS} AS now`))) as unknown as [{ now: string }[]];
          const now = Number(clock[0]!.now);
          const row = { ...lease, expiresAt: now + ttlMs };
          const [holder] = await tx.select().from(schema.leases).where(eq(schema.leases.target, lease.target)).for("update");
          if (holder && !canTake(holder, now)) return { acquired: false as const, holder };
          if (holder) await tx.update(schema.leases).set(row).where(eq(schema.leases.target, lease.target));
          else await tx.insert(schema.leases).values(row);
          return { acquired: true as const, expiresAt: row.expiresAt };
        });
      } catch (err) {
        if (attempt < 10 && RETRY.has(codeOf(err) ?? "")) continue;
        throw this.fail(err, `taking the lease of ${lease.target}`);
      }
    }
  }

  async renewLease(target: string, owner: string, ttlMs: number): Promise<boolean> {
    try {
      const [result] = await this.db
        .update(schema.leases)
        .set({ expiresAt: raw`${raw.raw(NOW_MS)} + ${ttlMs}` })
        .where(and(eq(schema.leases.target, target), eq(schema.leases.owner, owner)));
      return result.affectedRows === 1;
    } catch (err) {
      throw this.fail(err, `renewing the lease of ${target}`);
    }
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
    await this.pool.end();
  }
}
