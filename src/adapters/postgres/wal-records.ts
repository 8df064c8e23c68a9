/**
 * Which WAL records can change a database's content, judged from what pg_walinspect's
 * `pg_get_wal_records_info` prints (1.0 on PostgreSQL 15, 1.1 on 16+: the same columns). Pure:
 * the I/O is in `change-mark.ts`, whose header holds the proof this table serves.
 *
 * A record changes nothing in the target when:
 * - every block it references belongs to another database (`rel spc/db/relfilenode`), or to a
 *   shared catalog that holds no content of the target (`benignShared`: pg_database, pg_shdepend,
 *   pg_shdescription, their indexes and TOAST: database-level properties and other databases'
 *   bookkeeping, which pg_dump without --create does not write and the fingerprint does not hash;
 *   the template strategy's `CREATE DATABASE` writes them);
 * - or it references blocks of the target but only rewrites them without changing what any
 *   snapshot sees: hint-bit page images (`FPI_FOR_HINT`, written when checksums or wal_log_hints
 *   are on, e.g. by pg_dump reading fresh rows), pruning of dead tuples, freezing, visibility-map
 *   bits;
 * - or it references no block and is bookkeeping (checkpoints, clog/multixact pages, running-xacts
 *   snapshots), an abort (aborted work is invisible), or a commit the mark proves is not the
 *   target's (see `WalJudgeContext`); database/storage/relmap/lock records that name another
 *   database (the resource managers' names as PostgreSQL spells them: `RelMap`, not `Relmap`; a
 *   misspelt case never matches and turns every such record into a change).
 * Anything else is a change, with the reason: a false "changed" costs a fingerprint, never data.
 */
import { UpgradeError } from "../../errors.js";

/** One WAL record, the columns of `pg_get_wal_records_info` we read (LSNs as text, `X/Y`). */
export interface WalRecord {
  start: string;
  xid: string;
  rmgr: string;
  type: string;
  description: string;
  blockRef: string | null;
}

/** What the mark proved, for judging records. */
export interface WalJudgeContext {
  /** The target database's OID. */
  database: number;
  /** Relfilenodes of the shared catalogs that hold no content of the target. */
  benignShared: ReadonlySet<number>;
  /**
   * The insert LSN read after the mark's check of running transactions: a commit before it may
   * be of a transaction that wrote in the target before the mark began.
   */
  settled: bigint;
  /** Transactions (top-level xids) that held an xid in the target at the mark's check. */
  writers: ReadonlySet<string>;
}

/** `X/Y` (hex) as a number of bytes. */
export function parseLsn(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn.trim());
  if (!m)
    throw new UpgradeError("E_INTERNAL", `not a PostgreSQL LSN: ${lsn}`, { hint: "the server answered something unexpected; report it" });
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** Records that touch the target's blocks without changing what any snapshot sees. */
const NEUTRAL_ON_TARGET = new Set([
  "XLOG/FPI_FOR_HINT",
  "Heap2/PRUNE",
  "Heap2/PRUNE_ON_ACCESS",
  "Heap2/PRUNE_VACUUM_SCAN",
  "Heap2/PRUNE_VACUUM_CLEANUP",
  "Heap2/VACUUM",
  "Heap2/FREEZE_PAGE",
  "Heap2/VISIBLE",
]);

/** Block-less records that change no database's content. */
const BOOKKEEPING = new Set([
  "XLOG/CHECKPOINT_SHUTDOWN",
  "XLOG/CHECKPOINT_ONLINE",
  "XLOG/CHECKPOINT_REDO",
  "XLOG/NEXTOID",
  "XLOG/SWITCH",
  "XLOG/BACKUP_END",
  "XLOG/RESTORE_POINT",
  "XLOG/PARAMETER_CHANGE",
  "XLOG/FPW_CHANGE",
  "XLOG/END_OF_RECOVERY",
  "XLOG/OVERWRITE_CONTRECORD",
  "XLOG/NOOP",
  "Standby/RUNNING_XACTS",
  "Standby/INVALIDATIONS",
  "Transaction/ABORT",
  "Transaction/ABORT_PREPARED",
  "Transaction/ASSIGNMENT",
  "Transaction/INVALIDATION",
]);

/** Resource managers whose every record is transaction-status bookkeeping. */
const BOOKKEEPING_RMGRS = new Set(["CLOG", "CommitTs", "MultiXact"]);

const numbers = (text: string, re: RegExp): number[] => [...text.matchAll(re)].map((m) => Number(m[1]));

/** Why `r` may have changed the target database, or null when it provably did not. */
export function judgeWalRecord(r: WalRecord, ctx: WalJudgeContext): string | null {
  const kind = `${r.rmgr}/${r.type}`;
  const what = `${r.rmgr} ${r.type} at ${r.start}`;
  const refs = [...(r.blockRef ?? "").matchAll(/rel (\d+)\/(\d+)\/(\d+)/g)].map((m) => ({ db: Number(m[2]), rel: Number(m[3]) }));
  if (refs.length > 0) {
    for (const { db, rel } of refs) {
      if (db === ctx.database && !NEUTRAL_ON_TARGET.has(kind)) return `${what} wrote relation file ${rel} of the database`;
      if (db === 0 && !ctx.benignShared.has(rel)) return `${what} wrote shared catalog file ${rel} (roles, settings or tablespaces)`;
    }
    return null;
  }
  if (BOOKKEEPING.has(kind) || BOOKKEEPING_RMGRS.has(r.rmgr)) return null;
  if (kind === "Transaction/COMMIT") {
    if (ctx.writers.has(r.xid))
      return `${what}: transaction ${r.xid}, which was writing in the database when the mark was taken, committed`;
    if (parseLsn(r.start) < ctx.settled) return `${what}: a transaction committed while the mark was being taken`;
    return null;
  }
  const desc = r.description;
  const mentions = (dbs: number[]): string | null => (dbs.includes(ctx.database) ? `${what} (${desc}) concerns the database` : null);
  switch (r.rmgr) {
    case "Database": {
      // "copy dir 1663/1 to 1663/16384" reads the first and writes the second; others name what they write.
      const dirs = numbers(desc, /\b\d+\/(\d+)\b/g);
      const written = /^copy dir/.test(desc) ? dirs.slice(-1) : dirs;
      return written.length === 0 ? `${what} (${desc}) names no database` : mentions(written);
    }
    case "Storage": {
      if (/(^|\s)global\//.test(desc)) return `${what} (${desc}) concerns a shared catalog`;
      const dbs = numbers(desc, /(?:base|pg_tblspc\/\d+\/[^/\s]+)\/(\d+)\/\d+/g);
      return dbs.length === 0 ? `${what} (${desc}) names no database` : mentions(dbs);
    }
    case "RelMap": {
      const dbs = numbers(desc, /database (\d+)/g);
      if (dbs.length === 0 || dbs.includes(0)) return `${what} (${desc}) concerns the shared catalogs or no database`;
      return mentions(dbs);
    }
    case "Standby":
      if (r.type === "LOCK") return mentions(numbers(desc, /db (\d+)/g));
      break;
  }
  return `${what} (${desc.slice(0, 120)}) is not known to leave the database unchanged`;
}
