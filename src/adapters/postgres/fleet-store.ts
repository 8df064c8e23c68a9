import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { FleetStore, FleetTx, NewRolloutEvent, RolloutJournalEvent, RolloutRecord, RolloutTx } from "../../fleet/store.js";
import { eventHash } from "../../journal/hash.js";
import type { JournalEvent } from "../../journal/types.js";
import { runMigrations } from "../../migrations/runner.js";
import { journalMigrationsDir } from "../../package-root.js";
import { describeTarget } from "../../url.js";
import { openPg, pgError, type PgSql, type PostgresTarget } from "./connection.js";
import { createPostgresMigrationDriver } from "./migration-driver.js";

type Sql = Pick<PgSql, "unsafe">;
type Row = Record<string, unknown>;
const NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
const EVENT_COLUMNS = "rollout_id, seq, type, target, payload, at, hash";

const eventOf = (r: Row): RolloutJournalEvent => ({
  rolloutId: String(r.rollout_id),
  seq: Number(r.seq),
  type: String(r.type) as RolloutJournalEvent["type"],
  target: (r.target as string | null) ?? null,
  payload: JSON.parse(String(r.payload)),
  at: String(r.at),
  hash: String(r.hash),
});
const recordOf = (r: Row): RolloutRecord => ({
  rolloutId: String(r.rollout_id),
  fleet: String(r.fleet),
  toVersion: String(r.to_version),
  createdAt: String(r.created_at),
  lastSeq: Number(r.last_seq),
});

/** The chain hash of a rollout event: the run journal's, with the rollout as the run and the target as the step. */
function chained(prev: string, e: Omit<RolloutJournalEvent, "hash">): string {
  return eventHash(prev, {
    runId: e.rolloutId,
    seq: e.seq,
    type: e.type,
    step: e.target,
    payload: e.payload,
    at: e.at,
  } as unknown as JournalEvent);
}

async function clock(tx: Sql): Promise<number> {
  const [r] = await tx.unsafe(`SELECT ${NOW} AS now`);
  return Number(r?.now);
}

async function events(tx: Sql, rolloutId: string): Promise<RolloutJournalEvent[]> {
  return (
    await tx.unsafe(`SELECT ${EVENT_COLUMNS} FROM upgrade_machine_rollout_events WHERE rollout_id = $1 ORDER BY seq`, [rolloutId])
  ).map(eventOf);
}

async function insertEvent(tx: Sql, e: RolloutJournalEvent): Promise<void> {
  await tx.unsafe(`INSERT INTO upgrade_machine_rollout_events (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    e.rolloutId,
    e.seq,
    e.type,
    e.target,
    JSON.stringify(e.payload),
    e.at,
    e.hash,
  ]);
}

function rolloutTx(tx: Sql, rolloutId: string, now: number, head: { seq: number; hash: string }): RolloutTx {
  return {
    now,
    events: () => events(tx, rolloutId),
    async claims() {
      const rows = await tx.unsafe("SELECT target, worker, expires_at FROM upgrade_machine_fleet_claims WHERE rollout_id = $1", [
        rolloutId,
      ]);
      return rows.map((r) => ({ target: String(r.target), worker: String(r.worker), expiresAt: Number(r.expires_at) }));
    },
    async append(n: NewRolloutEvent) {
      const base = { rolloutId, seq: head.seq + 1, type: n.type, target: n.target, payload: n.payload, at: new Date(now).toISOString() };
      const event = { ...base, hash: chained(head.hash, base) };
      await insertEvent(tx, event);
      await tx.unsafe("UPDATE upgrade_machine_rollouts SET last_seq = $1, last_hash = $2 WHERE rollout_id = $3", [
        event.seq,
        event.hash,
        rolloutId,
      ]);
      head.seq = event.seq;
      head.hash = event.hash;
      return event;
    },
    async setClaim(target, worker, expiresAt) {
      await tx.unsafe(
        `INSERT INTO upgrade_machine_fleet_claims (rollout_id, target, worker, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (rollout_id, target) DO UPDATE SET worker = EXCLUDED.worker, expires_at = EXCLUDED.expires_at`,
        [rolloutId, target, worker, expiresAt],
      );
    },
    async dropClaim(target, worker) {
      const r = await tx.unsafe("DELETE FROM upgrade_machine_fleet_claims WHERE rollout_id = $1 AND target = $2 AND worker = $3", [
        rolloutId,
        target,
        worker,
      ]);
      return r.count === 1;
    },
    async latestRun(targetKey) {
      const [r] = await tx.unsafe(
        "SELECT run_id FROM upgrade_machine_runs WHERE target = $1 ORDER BY created_at DESC, run_id DESC LIMIT 1",
        [targetKey],
      );
      return r ? String(r.run_id) : null;
    },
  };
}

/**
 * The fleet journal in the PostgreSQL journal database: rollouts, their hash-chained events and
 * the workers' claims (schema/pg.ts, migrated with the run journal's tables). A rollout's row is
 * locked `FOR UPDATE` by every claim and append, so the fleet-wide `maxParallel` and the fold a
 * worker decides on are never raced; a fleet's new rollout is made under an advisory lock on its name.
 */
export async function openPostgresFleetStore(target: PostgresTarget): Promise<FleetStore> {
  let sql = await openPg(target, 4);
  const fail = (err: unknown, what: string) => (isUpgradeError(err) ? err : pgError(err, target, what, "E_JOURNAL"));
  try {
    await runMigrations(createPostgresMigrationDriver({ target, connection: async () => sql }), journalMigrationsDir("pg"), {
      lockTimeoutMs: 30_000,
    });
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw fail(err, "opening the fleet journal");
  }
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const used = sql;
    try {
      return await fn();
    } catch (err) {
      const e = fail(err, what);
      if (e.code === "E_CONNECT" && used === sql) {
        // A broken connection may leave postgres.js's write buffer stale (see src/process/write-after-close.ts): a new pool for the next call.
        sql = await openPg(target, 4);
        void used.end({ timeout: 0 }).catch(() => undefined);
      }
      throw e;
    }
  };
  return {
    display: describeTarget(target),
    withFleet: (fleet, fn) =>
      guard(
        `locking fleet ${fleet}`,
        () =>
          sql.begin(async (tx) => {
            await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [`upgrade-machine fleet ${fleet}`]);
            const now = await clock(tx);
            const ftx: FleetTx = {
              now,
              async latest() {
                const [r] = await tx.unsafe(
                  "SELECT * FROM upgrade_machine_rollouts WHERE fleet = $1 ORDER BY created_at DESC, rollout_id DESC LIMIT 1",
                  [fleet],
                );
                return r ? recordOf(r) : null;
              },
              events: (id) => events(tx, id),
              async create(r, first) {
                const base = { rolloutId: r.rolloutId, seq: 0, ...first, at: new Date(now).toISOString() };
                const event = { ...base, hash: chained("", base) };
                await tx.unsafe(
                  "INSERT INTO upgrade_machine_rollouts (rollout_id, fleet, to_version, created_at, last_seq, last_hash) VALUES ($1, $2, $3, $4, 0, $5)",
                  [r.rolloutId, r.fleet, r.toVersion, event.at, event.hash],
                );
                await insertEvent(tx, event);
              },
            };
            return fn(ftx);
          }) as Promise<never>,
      ),
    withRollout: (rolloutId, fn) =>
      guard(
        `locking rollout ${rolloutId}`,
        () =>
          sql.begin(async (tx) => {
            const [row] = await tx.unsafe("SELECT last_seq, last_hash FROM upgrade_machine_rollouts WHERE rollout_id = $1 FOR UPDATE", [
              rolloutId,
            ]);
            if (!row)
              throw new UpgradeError("E_NOT_FOUND", `rollout ${rolloutId} does not exist`, {
                hint: "list rollouts with `upgrade-machine fleet history`",
              });
            return fn(rolloutTx(tx, rolloutId, await clock(tx), { seq: Number(row.last_seq), hash: String(row.last_hash) }));
          }) as Promise<never>,
      ),
    rollouts: (fleet) =>
      guard("listing rollouts", async () =>
        (
          await sql.unsafe("SELECT * FROM upgrade_machine_rollouts WHERE fleet = $1 ORDER BY created_at DESC, rollout_id DESC", [fleet])
        ).map(recordOf),
      ),
    events: (rolloutId) => guard(`reading rollout ${rolloutId}`, () => events(sql, rolloutId)),
    eventsAfter: (rolloutId, afterSeq) =>
      guard(`reading rollout ${rolloutId}`, async () =>
        (
          await sql.unsafe(`SELECT ${EVENT_COLUMNS} FROM upgrade_machine_rollout_events WHERE rollout_id = $1 AND seq > $2 ORDER BY seq`, [
            rolloutId,
            afterSeq,
          ])
        ).map(eventOf),
      ),
    latestRuns: (targetKeys) =>
      guard("reading the targets' latest runs", async () => {
        if (!targetKeys.length) return new Map<string, string>();
        const rows = await sql.unsafe(
          `SELECT DISTINCT ON (target) target, run_id FROM upgrade_machine_runs WHERE target = ANY($1::text[])
           ORDER BY target, created_at DESC, run_id DESC`,
          [targetKeys as string[]],
        );
        return new Map(rows.map((r) => [String(r.target), String(r.run_id)]));
      }),
    renewClaim: (rolloutId, target, worker, ttlMs) =>
      guard(`renewing the claim on ${target}`, async () => {
        const r = await sql.unsafe(
          `UPDATE upgrade_machine_fleet_claims SET expires_at = ${NOW} + $1 WHERE rollout_id = $2 AND target = $3 AND worker = $4`,
          [ttlMs, rolloutId, target, worker],
        );
        return r.count === 1;
      }),
    close: () => sql.end({ timeout: 5 }),
  };
}
