/**
 * Reads the WAL written since a change mark with pg_walinspect (installed in the maintenance
 * database), a segment at a time, and stops at the first record that may have changed the target
 * (`judgeWalRecord`). Only records the server cannot rule out by their block references come back
 * over the wire: a busy neighbour database costs server-side reading, not transfer.
 */
import type { MarkCheck } from "../types.js";
import type { PgSql } from "./connection.js";
import { judgeWalRecord, parseLsn, type WalRecord } from "./wal-records.js";

/**
 * WAL read per call: from 64 kB (a change right after the mark is found at once: the function
 * materialises its whole range before filtering), growing fourfold to one default segment.
 */
const FIRST_CHUNK = 64n * 1024n;
const MAX_CHUNK = 16n * 1024n * 1024n;
/** Records handed over per call, at most. */
const PAGE = 5000;
/** How long to wait for the WAL up to `now` to be flushed (pg_walinspect reads flushed WAL only). */
const FLUSH_WAIT_MS = 2000;

/** The advice when WAL was written and cannot be inspected. */
export const WALINSPECT_ADVICE = "CREATE EXTENSION pg_walinspect in the maintenance database makes the seal O(changed)";

/** What of a mark the reading needs (see `PgChangeMark`). */
export interface WalMark {
  database: number;
  lsn: string;
  settled: string;
  writers: string[];
}

const formatLsn = (v: bigint): string => `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;

/** The schema pg_walinspect is installed in, when this user may run it; or why it cannot be used. */
export async function walinspect(admin: PgSql, maintenance: string): Promise<{ schema: string } | { why: string }> {
  const [row] = await admin<{ schema: string | null; allowed: boolean | null }[]>`
    SELECT n.nspname AS schema,
      has_function_privilege(format('%I.pg_get_wal_records_info(pg_lsn, pg_lsn)', n.nspname), 'EXECUTE') AS allowed
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_walinspect'`;
  if (!row?.schema) return { why: `pg_walinspect is not installed in the maintenance database ${maintenance}: ${WALINSPECT_ADVICE}` };
  if (!row.allowed) {
    return {
      why: `pg_walinspect is installed in ${maintenance} but this user may not run it: GRANT pg_read_server_files (or superuser) makes the seal O(changed)`,
    };
  }
  return { schema: row.schema };
}

/** Relfilenodes of the shared catalogs that hold no content of any one database (see wal-records.ts). */
async function benignShared(admin: PgSql): Promise<Set<number>> {
  const rows = await admin<{ f: number | null }[]>`
    WITH base AS (SELECT oid FROM pg_class WHERE relisshared AND relname IN ('pg_database', 'pg_shdepend', 'pg_shdescription')),
      toast AS (SELECT reltoastrelid AS oid FROM pg_class WHERE oid IN (SELECT oid FROM base) AND reltoastrelid <> 0),
      rels AS (SELECT oid FROM base UNION SELECT oid FROM toast)
    SELECT pg_relation_filenode(oid)::int8::float8 AS f FROM rels
    UNION SELECT pg_relation_filenode(indexrelid)::int8::float8 FROM pg_index WHERE indrelid IN (SELECT oid FROM rels)`;
  return new Set(rows.map((r) => Number(r.f)).filter((f) => f > 0));
}

async function waitForFlush(admin: PgSql, upTo: bigint): Promise<boolean> {
  const deadline = Date.now() + FLUSH_WAIT_MS;
  for (;;) {
    const [row] = await admin<{ lsn: string }[]>`SELECT pg_current_wal_flush_lsn()::text AS lsn`;
    if (parseLsn(row!.lsn) >= upTo) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Judges every WAL record in [mark.lsn, now): unchanged when none may have changed the target,
 * else the first that may have, as `why`.
 */
export async function readWalSince(admin: PgSql, mark: WalMark, now: string, maintenance: string): Promise<MarkCheck> {
  const from = parseLsn(mark.lsn);
  const to = parseLsn(now);
  const written = `WAL was written since the mark (${mark.lsn} to ${now})`;
  const tool = await walinspect(admin, maintenance);
  if ("why" in tool) return { unchanged: false, why: `${written} and ${tool.why}` };
  if (!(await waitForFlush(admin, to))) return { unchanged: false, why: `${written} and not yet flushed after ${FLUSH_WAIT_MS} ms` };
  const ctx = {
    database: mark.database,
    benignShared: await benignShared(admin),
    settled: parseLsn(mark.settled),
    writers: new Set(mark.writers),
  };
  // Blocks of the target's OID or of a shared catalog; block-less records; nothing else needs judging.
  const interesting = `rel [0-9]+/(0|${mark.database})/`;
  const fn = `${quoteSchema(tool.schema)}.pg_get_wal_records_info`;
  let pos = from;
  let size = FIRST_CHUNK;
  while (pos < to) {
    const end = to - pos > size ? pos + size : to; // bigint: no Math.min
    const rows = await admin.unsafe<(WalRecord & { end: string; last: string | null })[]>(
      `WITH r AS MATERIALIZED (SELECT * FROM ${fn}($1::pg_lsn, $2::pg_lsn)),
         hit AS (SELECT start_lsn, end_lsn, xid, resource_manager, record_type, description, block_ref FROM r
                 WHERE coalesce(block_ref, '') = '' OR block_ref ~ $3 ORDER BY start_lsn LIMIT ${PAGE})
       SELECT h.start_lsn::text AS start, h.end_lsn::text AS "end", h.xid::text AS xid, h.resource_manager AS rmgr,
         h.record_type AS type, h.description, h.block_ref AS "blockRef", (SELECT max(end_lsn)::text FROM r) AS last
       FROM (SELECT 1) one LEFT JOIN hit h ON true ORDER BY h.start_lsn`,
      [formatLsn(pos), formatLsn(end), interesting],
    );
    for (const r of rows) {
      if (r.start === null) continue;
      const why = judgeWalRecord({ ...r, description: r.description ?? "" }, ctx);
      if (why !== null) return { unchanged: false, why };
    }
    const hits = rows.filter((r) => r.start !== null);
    const last = hits.length >= PAGE ? hits[hits.length - 1]!.end : rows[0]?.last;
    if (last === null || last === undefined) {
      if (end >= to) break; // nothing complete in [pos, to): pos is at the insert position
      size *= 2n; // one record longer than the chunk
      continue;
    }
    pos = parseLsn(last);
    size = size * 4n > MAX_CHUNK ? MAX_CHUNK : size * 4n;
  }
  return { unchanged: true };
}

function quoteSchema(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
