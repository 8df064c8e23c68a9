/**
 * PostgreSQL change marks: whether a database's content (rows, schema, sequences) changed since a
 * mark, from the WAL, without reading the data.
 *
 * The mark, taken on the maintenance database's connection (and the target's, for sequences):
 * 1. `lsn` = pg_current_wal_insert_lsn();
 * 2. `writers` = the xids of the transactions connected to the target that hold an xid
 *    (pg_stat_activity.backend_xid, shown to every role, checked here; ours excluded: we never
 *    write);
 * 3. `settled` = pg_current_wal_insert_lsn() again;
 * 4. a digest of every sequence's (last_value, log_cnt, is_called), and a proof that the target
 *    has no UNLOGGED table (its writes leave no WAL: then no mark).
 *
 * Why "unchanged" is exact. Every committed change to a logged relation writes WAL records
 * referencing its blocks, and a commit record, after the change: so if nothing was inserted in
 * the WAL since `lsn` (insert LSN equal), nothing was committed since. Two changes write no WAL:
 * nextval() inside the range a sequence pre-logged (32 values) and any write to an UNLOGGED
 * relation; the sequence digest sees the first, the mark refuses the second. Hint bits and
 * statistics are not content.
 *
 * When `pg_walinspect` is installed in the maintenance database (and we may run it), WAL since
 * `lsn` does not mean a change: every record in [lsn, now) is judged (`wal-records.ts`). Records
 * with block references are the target's only if a reference names its OID (or a shared catalog
 * holding its properties: roles, settings). Commit records carry no block reference and no
 * database; a commit in the range is not the target's when its transaction's writes to the target
 * are all in the range (then judged as such). The only transactions that could have written to
 * the target before `lsn` and commit after it held an xid at `lsn`; such a transaction is either
 * still holding it at the check (2), so its xid is in `writers` and its commit counts as a change,
 * or it committed before the check: its commit record lies before `settled` (a backend's xid is
 * cleared from the proc array only after its commit record is inserted), and every commit before
 * `settled` counts as a change. Aborts change nothing. Records the table does not know are
 * changes. A sequence read (ours or pg_dump's) writes nothing; neither do the checks here.
 *
 * A check that proves the target unchanged renews the mark at the checked range's end (same
 * writers: those still uncommitted commit later and count; every commit before the end was
 * judged), so the backup step keeps a mark taken after its own work on the server.
 *
 * The WAL since the mark is kept until the check by a temporary replication slot created before
 * `lsn` is read (`wal-slot.ts`); the mark says whether (`walKept`, `slot`) or why not
 * (`walKeptWhy`). Without it a checkpoint may recycle the segments: PostgreSQL then refuses to
 * read them and the check says "changed" (the seal fingerprints): never a wrong "unchanged".
 *
 * A template-copy restore point (CREATE DATABASE ... STRATEGY FILE_COPY) writes a checkpoint, a
 * Database record naming the copy, and pg_database/pg_shdepend rows: none is the target's. The
 * journal on the same server writes records of its own database. Autovacuum's pruning and
 * visibility records are neutral; its ANALYZE (pg_statistic rows) and pg_class statistics are
 * counted as changes (conservative).
 */
import { createHash } from "node:crypto";
import { isUpgradeError } from "../../errors.js";
import type { ChangeMark, MarkCheck, SkippedMark } from "../types.js";
import { pgError, type PgSql, type PostgresTarget } from "./connection.js";
import { readWalSince, walinspect } from "./wal-reader.js";
import { slotKept, type WalKeeper, type WalKept } from "./wal-slot.js";

/** The `how` of a PostgreSQL mark. */
export const PG_MARK_HOW = "postgres-wal";

/** A PostgreSQL change mark (JSON). */
export interface PgChangeMark extends ChangeMark {
  how: typeof PG_MARK_HOW;
  /** The server's system_identifier. */
  server: string;
  /** The target database's OID. */
  database: number;
  lsn: string;
  settled: string;
  writers: string[];
  /** sha256 of every sequence's state. */
  sequences: string;
  /** Whether a replication slot keeps the WAL since `lsn` (absent in marks of older versions). */
  walKept?: boolean;
  /** The temporary slot that keeps it. */
  slot?: string;
  /** Why no slot keeps it. */
  walKeptWhy?: string;
}

/** What the change marks need of the adapter: its two pools, names and the keeper of its slot. */
export interface PgMarkDeps {
  target: PostgresTarget;
  maintenance: string;
  admin(): Promise<PgSql>;
  connect(): Promise<PgSql>;
  wal: WalKeeper;
}

/** A slot keeping the WAL from now on, when the WAL can be read at all (else a slot would keep it for nothing). */
async function keepWal(deps: PgMarkDeps, admin: PgSql): Promise<WalKept> {
  const tool = await walinspect(admin, deps.maintenance);
  if ("why" in tool) return { walKept: false, walKeptWhy: tool.why };
  return deps.wal.keep();
}

async function insertLsn(sql: PgSql): Promise<string> {
  const [row] = await sql<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`;
  return row!.lsn;
}

/** The sequences' state digest, or why it cannot be read; plus the first UNLOGGED table. */
async function readTarget(sql: PgSql): Promise<{ sequences: string; unlogged: string | null }> {
  const rels = await sql<{ name: string; kind: string; persistence: string }[]>`
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, c.relkind::text AS kind, c.relpersistence::text AS persistence
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE (c.relkind = 'S' AND c.relpersistence <> 't') OR (c.relkind IN ('r', 'p', 'm') AND c.relpersistence = 'u')
    ORDER BY 1`;
  const unlogged = rels.find((r) => r.kind !== "S")?.name ?? null;
  const seqs = rels.filter((r) => r.kind === "S").map((r) => r.name);
  const hash = createHash("sha256");
  // One statement for all: O(number of sequences), no data read.
  for (let i = 0; i < seqs.length; i += 500) {
    const part = seqs.slice(i, i + 500);
    const rows = await sql.unsafe<{ n: string; v: string; c: string; called: boolean }[]>(
      part
        .map((s) => `SELECT ${quoteLiteralName(s)} AS n, last_value::text AS v, log_cnt::text AS c, is_called AS called FROM ${s}`)
        .join(" UNION ALL "),
    );
    for (const r of rows) hash.update(`${r.n}\t${r.v}\t${r.c}\t${r.called}\n`);
  }
  return { sequences: hash.digest("hex"), unlogged };
}

function quoteLiteralName(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

async function identity(admin: PgSql, database: string): Promise<{ server: string; oid: number | null }> {
  const [row] = await admin<{ server: string; oid: number | null }[]>`
    SELECT (SELECT system_identifier::text FROM pg_control_system()) AS server, (SELECT oid::int FROM pg_database WHERE datname = ${database}) AS oid`;
  return { server: row!.server, oid: row!.oid };
}

/** Takes a mark of the target (see the file's header), or says why none can be trusted. */
export async function takePgMark(deps: PgMarkDeps): Promise<PgChangeMark | SkippedMark> {
  const { target } = deps;
  try {
    const admin = await deps.admin();
    const [recovery] = await admin<{ r: boolean }[]>`SELECT pg_is_in_recovery() AS r`;
    if (recovery?.r) return { skipped: "the server is a standby (in recovery): its WAL position is not its own" };
    const id = await identity(admin, target.database);
    if (id.oid === null) return { skipped: `the database ${target.database} does not exist` };
    const kept = await keepWal(deps, admin); // before `lsn`: the slot's restart_lsn is at or before it
    const lsn = await insertLsn(admin);
    const writers = await admin<{ xid: string }[]>`
      SELECT backend_xid::text AS xid FROM pg_stat_activity WHERE datid = ${id.oid} AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`;
    const settled = await insertLsn(admin);
    const { sequences, unlogged } = await readTarget(await deps.connect());
    if (unlogged !== null) return { skipped: `table ${unlogged} is UNLOGGED: its writes leave no WAL to tell them by` };
    const mark = {
      how: PG_MARK_HOW as typeof PG_MARK_HOW,
      server: id.server,
      database: id.oid,
      lsn,
      settled,
      writers: writers.map((w) => w.xid),
      sequences,
    };
    return { ...mark, ...kept } satisfies PgChangeMark;
  } catch (err) {
    const coded = pgError(err, target, "taking a change mark", "E_VERIFY");
    if (["E_CONNECT", "E_AUTH", "E_NOT_FOUND"].includes(coded.code)) throw coded;
    return { skipped: `no change mark: ${coded.message}` };
  }
}

function isPgMark(mark: ChangeMark): mark is PgChangeMark {
  const m = mark as Partial<PgChangeMark>;
  return (
    m.how === PG_MARK_HOW &&
    typeof m.server === "string" &&
    typeof m.database === "number" &&
    typeof m.lsn === "string" &&
    typeof m.settled === "string" &&
    Array.isArray(m.writers) &&
    typeof m.sequences === "string" &&
    (m.slot === undefined || typeof m.slot === "string")
  );
}

/** Whether the target is proven unchanged since `mark` (see the file's header). */
export async function checkPgMark(deps: PgMarkDeps, mark: ChangeMark): Promise<MarkCheck> {
  const { target } = deps;
  if (!isPgMark(mark)) return { unchanged: false, why: `not a PostgreSQL change mark (how: ${String(mark.how)})` };
  let lost: string | null = null;
  try {
    const admin = await deps.admin();
    const id = await identity(admin, target.database);
    if (id.server !== mark.server) return { unchanged: false, why: "another PostgreSQL server answers at this address than at the mark" };
    if (id.oid !== mark.database)
      return { unchanged: false, why: `the database ${target.database} was dropped or replaced since the mark` };
    const { sequences, unlogged } = await readTarget(await deps.connect());
    if (unlogged !== null) return { unchanged: false, why: `table ${unlogged} is UNLOGGED` };
    if (sequences !== mark.sequences) return { unchanged: false, why: "a sequence moved since the mark (nextval or setval)" };
    const now = await insertLsn(admin);
    if (now === mark.lsn) return { unchanged: true };
    // Without a slot that kept it, the WAL is read if PostgreSQL still has it: a removed segment is
    // an error (never a short read), and then the why says what did not keep it.
    lost = mark.slot === undefined ? (mark.walKeptWhy ?? null) : await slotKept(admin, mark.slot, mark.lsn);
    const check = await readWalSince(admin, mark, now, deps.maintenance);
    if (!check.unchanged) return check;
    // Every record and commit before `now` is judged: a mark at `now` with the same writers (any
    // still uncommitted) is of the same state. Renewed, a later check reads only the WAL after
    // `now`, not what a backup wrote meanwhile (a dump's proof restore: its WAL, and the
    // checkpoint of its DROP DATABASE that may recycle the segments since the first mark); the
    // slot moves to `now` too, so that WAL is freed.
    if (mark.slot !== undefined && lost === null) await deps.wal.advance(mark.slot, now);
    return { unchanged: true, renewed: { ...mark, lsn: now, settled: now } satisfies PgChangeMark };
  } catch (err) {
    const coded = pgError(err, target, "checking the change mark", "E_VERIFY");
    if (isUpgradeError(coded) && ["E_CONNECT", "E_AUTH", "E_NOT_FOUND"].includes(coded.code)) throw coded;
    const kept = lost === null ? "" : `; the WAL was not kept: ${lost}`;
    return { unchanged: false, why: `the change mark could not be checked: ${coded.message}${kept}` };
  }
}
