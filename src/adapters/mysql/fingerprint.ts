import { createHash, type Hash } from "node:crypto";
import type { Connection as CoreConnection } from "mysql2";
import type { PoolConnection } from "mysql2/promise";
import type { Fingerprint } from "../types.js";
import { quoteIdent, type MysqlPool } from "./connection.js";

type Value = Buffer | null;

/** Feeds one row (raw text/binary values, as the server sent them) to `hash`, unambiguously. */
function hashRow(hash: Hash, row: Value[]): void {
  hash.update(`r${row.length}:`);
  for (const value of row) {
    if (value === null) hash.update("N");
    else {
      hash.update(`${value.length}:`);
      hash.update(value);
    }
  }
}

async function rows(conn: PoolConnection, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const [result] = await conn.query(sql, params);
  return result as Record<string, unknown>[];
}

/** Every schema object of `db`, as sorted JSON lines (names, never internal ids). */
export async function schemaHash(conn: PoolConnection, db: string, tables: { name: string; type: string }[]): Promise<string> {
  const lines: string[] = [];
  const add = (kind: string, list: unknown[]): void => {
    for (const item of list) lines.push(`${kind}:${JSON.stringify(item)}`);
  };
  add(
    "database",
    await rows(
      conn,
      "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [db],
    ),
  );
  for (const t of tables) {
    // SHOW CREATE TABLE is the server's own normalised DDL: columns, types, defaults, indexes,
    // constraints (foreign keys with their rules), engine, charset and the AUTO_INCREMENT counter.
    const [created] = await rows(
      conn,
      t.type === "VIEW" ? `SHOW CREATE VIEW ${quoteIdent(t.name)}` : `SHOW CREATE TABLE ${quoteIdent(t.name)}`,
    );
    add(t.type === "VIEW" ? "view" : "table", [created ?? null]);
  }
  add(
    "trigger",
    await rows(
      conn,
      "SELECT TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_TIMING, ACTION_ORDER, ACTION_STATEMENT, SQL_MODE, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
      [db],
    ),
  );
  add(
    "routine",
    await rows(
      conn,
      "SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC, SQL_DATA_ACCESS, SECURITY_TYPE, SQL_MODE, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?",
      [db],
    ),
  );
  add(
    "parameter",
    await rows(
      conn,
      "SELECT SPECIFIC_NAME, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = ?",
      [db],
    ),
  );
  add(
    "event",
    await rows(
      conn,
      "SELECT EVENT_NAME, EVENT_DEFINITION, EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, STATUS, ON_COMPLETION, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?",
      [db],
    ),
  );
  const hash = createHash("sha256");
  for (const line of lines.sort()) hash.update(`${line}\n`);
  return hash.digest("hex");
}

const MOD = 1n << 256n;

/**
 * Streams a table's rows into a hash: in primary-key order when it has one; otherwise as a
 * multiset (the sum of the rows' sha256 modulo 2^256), because MySQL sorts long values by a
 * prefix only and the order of equal prefixes is not stable.
 */
async function tableHash(conn: PoolConnection, table: string, pk: string[]): Promise<{ rows: number; hash: string }> {
  const ordered = pk.length > 0;
  const sql = `SELECT * FROM ${quoteIdent(table)}${ordered ? ` ORDER BY ${pk.map(quoteIdent).join(", ")}` : ""}`;
  // The callback connection under the promise wrapper: only it can stream.
  const core = (conn as unknown as { connection: CoreConnection }).connection;
  const stream = core.query({ sql, rowsAsArray: true, typeCast: false }).stream();
  const hash = createHash("sha256");
  let sum = 0n;
  let count = 0;
  for await (const row of stream as AsyncIterable<Value[]>) {
    if (ordered) hashRow(hash, row);
    else {
      const one = createHash("sha256");
      hashRow(one, row);
      sum = (sum + BigInt(`0x${one.digest("hex")}`)) % MOD;
    }
    count++;
  }
  if (!ordered) hash.update(`multiset:${sum.toString(16)}`);
  return { rows: count, hash: hash.digest("hex") };
}

/**
 * Fingerprints a MySQL / MariaDB database in one `REPEATABLE READ` consistent-snapshot
 * transaction: `schema` = sha256 over the database's character set, `SHOW CREATE TABLE` /
 * `SHOW CREATE VIEW` of every table and view (with AUTO_INCREMENT counters), triggers,
 * routines with their parameters, and events; per base table (drizzle's bookkeeping included)
 * the row count and a sha256 over the raw values in primary-key order, streamed by mysql2 with
 * back-pressure: memory stays constant whatever the size.
 */
export async function fingerprintMysql(pool: MysqlPool, database: string): Promise<Fingerprint> {
  // A table whose definition changed after the snapshot began (DDL that a killed session's
  // server-side work finishes, after a crash) cannot be read in it: the next snapshot can.
  for (let attempt = 1; ; attempt++) {
    try {
      return await fingerprintOnce(pool, database);
    } catch (err) {
      if ((err as { code?: string }).code !== "ER_TABLE_DEF_CHANGED" || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function fingerprintOnce(pool: MysqlPool, database: string): Promise<Fingerprint> {
  const conn = await pool.getConnection();
  try {
    await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    await conn.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    const list = (
      await rows(conn, "SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [database])
    )
      .map((r) => ({ name: String(r.name), type: String(r.type) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const schema = await schemaHash(conn, database, list);
    const keys = await rows(
      conn,
      "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX",
      [database],
    );
    const tables: Fingerprint["tables"] = {};
    const names: string[] = [];
    for (const t of list.filter((x) => x.type === "BASE TABLE")) {
      const pk = keys.filter((k) => k.t === t.name).map((k) => String(k.c));
      names.push(t.name);
      Object.defineProperty(tables, t.name, {
        value: await tableHash(conn, t.name, pk),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    await conn.query("COMMIT");
    const hash = createHash("sha256")
      .update(JSON.stringify({ schema, tables: names.map((n) => [n, tables[n]?.rows, tables[n]?.hash]) }))
      .digest("hex");
    conn.release();
    return { schema, tables, hash };
  } catch (err) {
    // Mid-stream or mid-transaction: never hand this connection to anyone else.
    conn.destroy();
    throw err;
  }
}
