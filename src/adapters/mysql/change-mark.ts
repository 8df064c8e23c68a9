/**
 * MySQL / MariaDB change marks: whether a database changed since a mark, from InnoDB's log
 * sequence number and the schema, without reading the data.
 *
 * The mark: the server's identity; InnoDB's current LSN (`Innodb_lsn_current` on MariaDB,
 * `Innodb_redo_log_current_lsn` on MySQL 8.0.30+, else "Log sequence number" of SHOW ENGINE
 * INNODB STATUS), read first; then a digest of the schema (`schemaHash`, the fingerprint's own:
 * SHOW CREATE of every table and view, with AUTO_INCREMENT counters, defaults, comments and
 * checks; triggers, routines with parameters, events, the database's character set). A database
 * with a table of another engine (MyISAM, Aria, MEMORY...) gets no mark: those writes leave no
 * redo.
 *
 * Why "unchanged" is exact. Every change to an InnoDB table's rows (and its commit) is written as
 * redo by a mini-transaction, which advances the LSN: an equal LSN means no row of any InnoDB
 * table changed and no transaction committed, server-wide. What InnoDB does not log lives in
 * files the server rewrites without redo: the .frm (ALTER ... SET DEFAULT, comments, instant
 * metadata changes), .TRG files, views, mysql.proc and mysql.event (Aria), db.opt; the schema
 * digest covers each of them. A transaction that wrote before the mark and commits after it
 * moves the LSN with its commit. A MariaDB sequence's NEXTVAL inside its cache changes nothing
 * that a dump or a fingerprint reads (both read next_not_cached_value, which is written, with
 * redo, when the cache is refilled).
 *
 * It is server-wide: any write in any database (the journal when it lives on the same server,
 * purge and persistent statistics for about 5 s after the last write, measured on MariaDB 10.11)
 * moves the LSN, and the seal then fingerprints: correct, not fast.
 */
import type { PoolConnection } from "mysql2/promise";
import type { ChangeMark, MarkCheck, SkippedMark } from "../types.js";
import { mysqlError, type MysqlPool, type MysqlTarget } from "./connection.js";
import { schemaHash } from "./fingerprint.js";

/** The `how` of a MySQL mark. */
export const MYSQL_MARK_HOW = "innodb-lsn";

/** A MySQL / MariaDB change mark (JSON). */
export interface MysqlChangeMark extends ChangeMark {
  how: typeof MYSQL_MARK_HOW;
  server: string;
  /** InnoDB's log sequence number, as text (it outgrows 2^53). */
  lsn: string;
  /** sha256 of the database's schema (see `schemaHash`). */
  schema: string;
}

/** What the change marks need of the adapter. */
export interface MysqlMarkDeps {
  target: MysqlTarget;
  connect(): Promise<MysqlPool>;
}

async function rows<T>(conn: PoolConnection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await conn.query(sql, params);
  return result as T[];
}

/** InnoDB's current LSN, or null when the server does not tell it. */
async function readLsn(conn: PoolConnection): Promise<string | null> {
  const status = await rows<{ Variable_name: string; Value: string }>(
    conn,
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current', 'Innodb_redo_log_current_lsn')",
  );
  const value = status.find((s) => /^\d+$/.test(String(s.Value)))?.Value;
  if (value !== undefined) return String(value);
  const engine = await rows<{ Status: string }>(conn, "SHOW ENGINE INNODB STATUS").catch(() => []);
  return /Log sequence number\s+(\d+)/.exec(engine[0]?.Status ?? "")?.[1] ?? null;
}

async function serverIdentity(conn: PoolConnection): Promise<string> {
  const [v] = await rows<{ host: string; port: number; datadir: string }>(
    conn,
    "SELECT @@hostname AS host, @@port AS port, @@datadir AS datadir",
  );
  const uuid = await rows<{ uuid: string | null }>(conn, "SELECT @@server_uuid AS uuid").then(
    (r) => r[0]?.uuid ?? null,
    () => null, // MariaDB has no server_uuid
  );
  return uuid ?? `${v?.host}:${v?.port}:${v?.datadir}`;
}

/** The schema digest, or the first table whose writes InnoDB does not log. */
async function readSchema(conn: PoolConnection, database: string): Promise<{ schema: string } | { foreign: string }> {
  const list = (
    await rows<{ name: string; type: string; engine: string | null }>(
      conn,
      "SELECT TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
      [database],
    )
  )
    .map((r) => ({ name: String(r.name), type: String(r.type), engine: r.engine === null ? null : String(r.engine) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const foreign = list.find((t) => t.type !== "VIEW" && t.engine !== null && t.engine.toLowerCase() !== "innodb");
  if (foreign) return { foreign: `table ${foreign.name} uses ${foreign.engine}: its writes leave no InnoDB redo to tell them by` };
  return { schema: await schemaHash(conn, database, list) };
}

async function onConnection<T>(deps: MysqlMarkDeps, what: string, body: (conn: PoolConnection) => Promise<T>): Promise<T> {
  let conn: PoolConnection;
  try {
    conn = await (await deps.connect()).getConnection();
  } catch (err) {
    throw mysqlError(err, deps.target, what);
  }
  try {
    return await body(conn);
  } finally {
    conn.release();
  }
}

const isConnectionError = (code: string): boolean => ["E_CONNECT", "E_AUTH", "E_NOT_FOUND"].includes(code);

/** Takes a mark of the target (see the file's header), or says why none can be trusted. */
export async function takeMysqlMark(deps: MysqlMarkDeps): Promise<MysqlChangeMark | SkippedMark> {
  return onConnection(deps, "taking a change mark", async (conn) => {
    try {
      const lsn = await readLsn(conn);
      if (lsn === null)
        return { skipped: "the server tells no InnoDB log sequence number (Innodb_lsn_current, SHOW ENGINE INNODB STATUS)" };
      const read = await readSchema(conn, deps.target.database);
      if ("foreign" in read) return { skipped: read.foreign };
      return { how: MYSQL_MARK_HOW, server: await serverIdentity(conn), lsn, schema: read.schema };
    } catch (err) {
      const coded = mysqlError(err, deps.target, "taking a change mark", "E_VERIFY");
      if (isConnectionError(coded.code)) throw coded;
      return { skipped: `no change mark: ${coded.message}` };
    }
  });
}

function isMysqlMark(mark: ChangeMark): mark is MysqlChangeMark {
  const m = mark as Partial<MysqlChangeMark>;
  return m.how === MYSQL_MARK_HOW && typeof m.server === "string" && typeof m.lsn === "string" && typeof m.schema === "string";
}

/** Whether the target is proven unchanged since `mark`: the same LSN and the same schema. */
export async function checkMysqlMark(deps: MysqlMarkDeps, mark: ChangeMark): Promise<MarkCheck> {
  if (!isMysqlMark(mark)) return { unchanged: false, why: `not a MySQL change mark (how: ${String(mark.how)})` };
  return onConnection(deps, "checking the change mark", async (conn): Promise<MarkCheck> => {
    try {
      if ((await serverIdentity(conn)) !== mark.server)
        return { unchanged: false, why: "another server answers at this address than at the mark" };
      const lsn = await readLsn(conn);
      if (lsn !== mark.lsn) {
        return {
          unchanged: false,
          why: `InnoDB's log sequence number moved since the mark (${mark.lsn} to ${lsn ?? "unknown"}): something was written on the server, in this database or another`,
        };
      }
      const read = await readSchema(conn, deps.target.database);
      if ("foreign" in read) return { unchanged: false, why: read.foreign };
      if (read.schema !== mark.schema)
        return {
          unchanged: false,
          why: "the schema changed since the mark (a definition InnoDB does not log: .frm, trigger, view, routine or event)",
        };
      return { unchanged: true };
    } catch (err) {
      const coded = mysqlError(err, deps.target, "checking the change mark", "E_VERIFY");
      if (isConnectionError(coded.code)) throw coded;
      return { unchanged: false, why: `the change mark could not be checked: ${coded.message}` };
    }
  });
}
