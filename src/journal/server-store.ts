import { UpgradeError, isUpgradeError } from "../errors.js";
import { fencedError, fromRow, leaseLostError, toRow } from "./rows.js";
import { TABLES } from "./table-names.js";
import type { JournalEvent, JournalStore, Lease, LeaseFence, LeaseRequest, RunRecord } from "./types.js";

/** Runs SQL with `?` placeholders (one statement at a time). */
export interface SqlRunner {
  /** The rows of a query. */
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The rows an UPDATE or DELETE matched. */
  count(sql: string, params?: unknown[]): Promise<number>;
}

/**
 * What a server journal store needs of its driver: a runner, transactions, the server's clock
 * and how its errors read. One per dialect (src/adapters/postgres and mysql/journal-store.ts).
 */
export interface SqlJournalDriver extends SqlRunner {
  /** The journal's location, printable (no password). */
  readonly display: string;
  /** An SQL expression of the server's clock in epoch milliseconds. */
  readonly nowMs: string;
  /** Runs `fn` in one transaction on one connection; commits when it resolves. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** A unique-key violation (another writer's row) is `duplicate`; a deadlock or serialization failure `retry`. */
  classify(err: unknown): "duplicate" | "retry" | "other";
  /** The coded error of a failed statement (E_CONNECT, E_AUTH, E_JOURNAL...). */
  fail(err: unknown, what: string): UpgradeError;
  close(): Promise<void>;
}

const { runs: R, events: E, leases: L } = TABLES;
const RUN_COLUMNS = `${R.runId}, ${R.target}, ${R.name}, ${R.createdAt}, ${R.identity}, ${R.lastSeq}, ${R.lastHash}`;
const EVENT_COLUMNS = `${E.runId}, ${E.seq}, ${E.type}, ${E.step}, ${E.payload}, ${E.at}, ${E.hash}`;
const LEASE_COLUMNS = `${L.target}, ${L.owner}, ${L.runId}, ${L.host}, ${L.pid}, ${L.process}, ${L.expiresAt}`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function runOf(row: Record<string, unknown>): RunRecord {
  return {
    runId: String(row[R.runId]),
    target: String(row[R.target]),
    name: String(row[R.name]),
    createdAt: String(row[R.createdAt]),
    identity: (row[R.identity] as string | null) ?? null,
    lastSeq: num(row[R.lastSeq]),
    lastHash: (row[R.lastHash] as string | null) ?? null,
  };
}

function eventOf(row: Record<string, unknown>): JournalEvent {
  return fromRow({
    runId: String(row[E.runId]),
    seq: Number(row[E.seq]),
    type: String(row[E.type]),
    step: (row[E.step] as string | null) ?? null,
    payload: String(row[E.payload]),
    at: String(row[E.at]),
    hash: String(row[E.hash]),
  });
}

function leaseOf(row: Record<string, unknown>): Lease {
  return {
    target: String(row[L.target]),
    owner: String(row[L.owner]),
    runId: (row[L.runId] as string | null) ?? null,
    host: String(row[L.host]),
    pid: Number(row[L.pid]),
    process: (row[L.process] as string | null) ?? null,
    expiresAt: Number(row[L.expiresAt]),
  };
}

/**
 * The journal store of every server dialect (PostgreSQL, MySQL / MariaDB), in SQL both speak:
 * the tables of schema/*.ts (created by their drizzle-kit migrations when the store opens), the
 * run's head moved in each append's transaction, leases by the server's clock with the holder's
 * row locked (`FOR UPDATE`) while a taker decides. Takers that collide on the first insert or
 * deadlock try again.
 */
export class ServerJournalStore implements JournalStore {
  readonly display: string;

  constructor(private readonly driver: SqlJournalDriver) {
    this.display = driver.display;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isUpgradeError(err)) throw err;
      throw this.driver.fail(err, what);
    }
  }

  async createRun(run: RunRecord, first: JournalEvent): Promise<void> {
    const row = toRow(first);
    await this.guard(`creating run ${run.runId}`, () =>
      this.driver.transaction(async (tx) => {
        await tx.count(`INSERT INTO ${R.table} (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
          run.runId,
          run.target,
          run.name,
          run.createdAt,
          run.identity ?? null,
          first.seq,
          first.hash,
        ]);
        await tx.count(`INSERT INTO ${E.table} (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
          row.runId,
          row.seq,
          row.type,
          row.step,
          row.payload,
          row.at,
          row.hash,
        ]);
      }),
    );
  }

  async runs(target?: string): Promise<RunRecord[]> {
    const where = target === undefined ? "" : ` WHERE ${R.target} = ?`;
    const rows = await this.guard("listing runs", () =>
      this.driver.rows(
        `SELECT ${RUN_COLUMNS} FROM ${R.table}${where} ORDER BY ${R.createdAt} DESC, ${R.runId} DESC`,
        target === undefined ? [] : [target],
      ),
    );
    return rows.map(runOf);
  }

  async run(runId: string): Promise<RunRecord | null> {
    const [row] = await this.guard(`reading run ${runId}`, () =>
      this.driver.rows(`SELECT ${RUN_COLUMNS} FROM ${R.table} WHERE ${R.runId} = ?`, [runId]),
    );
    return row ? runOf(row) : null;
  }

  async read(runId: string): Promise<JournalEvent[]> {
    return this.eventsAfter(runId, -1);
  }

  async eventsAfter(runId: string, seq: number): Promise<JournalEvent[]> {
    const rows = await this.guard(`reading run ${runId}`, () =>
      this.driver.rows(`SELECT ${EVENT_COLUMNS} FROM ${E.table} WHERE ${E.runId} = ? AND ${E.seq} > ? ORDER BY ${E.seq}`, [runId, seq]),
    );
    return rows.map(eventOf);
  }

  async append(event: JournalEvent, lease?: LeaseFence): Promise<void> {
    const row = toRow(event);
    try {
      await this.driver.transaction(async (tx) => {
        if (lease) {
          const held = await tx.rows(`SELECT ${L.owner} FROM ${L.table} WHERE ${L.target} = ? AND ${L.owner} = ? FOR UPDATE`, [
            lease.target,
            lease.owner,
          ]);
          if (held.length !== 1) throw leaseLostError(event, lease.target);
        }
        const moved = await tx.count(
          `UPDATE ${R.table} SET ${R.lastSeq} = ?, ${R.lastHash} = ? WHERE ${R.runId} = ? AND (${R.lastSeq} = ? OR ${R.lastSeq} IS NULL)`,
          [event.seq, event.hash, event.runId, event.seq - 1],
        );
        if (moved !== 1) throw fencedError(event, null);
        await tx.count(`INSERT INTO ${E.table} (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
          row.runId,
          row.seq,
          row.type,
          row.step,
          row.payload,
          row.at,
          row.hash,
        ]);
      });
    } catch (err) {
      if (isUpgradeError(err)) throw err;
      if (this.driver.classify(err) === "duplicate") throw fencedError(event, err);
      throw this.driver.fail(err, `appending event ${event.seq} of run ${event.runId}`);
    }
  }

  async now(): Promise<number> {
    const [row] = await this.guard("reading the clock", () => this.driver.rows<{ now: unknown }>(`SELECT ${this.driver.nowMs} AS now`));
    return Number(row?.now);
  }

  async acquireLease(
    lease: LeaseRequest,
    ttlMs: number,
    canTake: (holder: Lease, now: number) => boolean,
  ): Promise<{ acquired: true; expiresAt: number } | { acquired: false; holder: Lease }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.driver.transaction(async (tx) => {
          const [clock] = await tx.rows<{ now: unknown }>(`SELECT ${this.driver.nowMs} AS now`);
          const now = Number(clock?.now);
          const [found] = await tx.rows(`SELECT ${LEASE_COLUMNS} FROM ${L.table} WHERE ${L.target} = ? FOR UPDATE`, [lease.target]);
          const holder = found ? leaseOf(found) : undefined;
          if (holder && !canTake(holder, now)) return { acquired: false as const, holder };
          const expiresAt = now + ttlMs;
          const values = [lease.owner, lease.runId, lease.host, lease.pid, lease.process, expiresAt];
          if (holder) {
            await tx.count(
              `UPDATE ${L.table} SET ${L.owner} = ?, ${L.runId} = ?, ${L.host} = ?, ${L.pid} = ?, ${L.process} = ?, ${L.expiresAt} = ? WHERE ${L.target} = ?`,
              [...values, lease.target],
            );
          } else {
            await tx.count(`INSERT INTO ${L.table} (${LEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [lease.target, ...values]);
          }
          return { acquired: true as const, expiresAt };
        });
      } catch (err) {
        // Two first takers: one inserts, the other hits the key (or a deadlock on the gap lock): again.
        if (attempt < 10 && !isUpgradeError(err) && this.driver.classify(err) !== "other") continue;
        if (isUpgradeError(err)) throw err;
        throw this.driver.fail(err, `taking the lease of ${lease.target}`);
      }
    }
  }

  async renewLease(target: string, owner: string, ttlMs: number): Promise<boolean> {
    const n = await this.guard(`renewing the lease of ${target}`, () =>
      this.driver.count(`UPDATE ${L.table} SET ${L.expiresAt} = ${this.driver.nowMs} + ? WHERE ${L.target} = ? AND ${L.owner} = ?`, [
        ttlMs,
        target,
        owner,
      ]),
    );
    return n === 1;
  }

  async releaseLease(target: string, owner: string): Promise<void> {
    await this.guard(`releasing the lease of ${target}`, () =>
      this.driver.count(`DELETE FROM ${L.table} WHERE ${L.target} = ? AND ${L.owner} = ?`, [target, owner]),
    );
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

/** The error of a journal database that does not exist, with the statement that creates it. */
export function missingJournalDatabase(database: string, create: string, cause: unknown): UpgradeError {
  return new UpgradeError("E_NOT_FOUND", `the journal database ${JSON.stringify(database)} does not exist`, {
    hint: `create it once: ${create} (upgrade-machine creates its tables)`,
    cause,
  });
}
