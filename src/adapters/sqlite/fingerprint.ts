import { createHash, type Hash } from "node:crypto";
import { UpgradeError } from "../../errors.js";
import type { Fingerprint } from "../types.js";
import { quoteIdent, type SqliteDb } from "./connection.js";

interface TableListRow {
  schema: string;
  name: string;
  type: string;
  wr: number;
}

interface ColumnRow {
  name: string;
  pk: number;
}

const REAL = Buffer.alloc(8);

/** Feeds one value to the hash, its type distinguished and its length prefixed (unambiguous). */
function hashValue(hash: Hash, value: unknown): void {
  if (value === null || value === undefined) hash.update("N");
  else if (typeof value === "bigint") hash.update(`I${value.toString()};`);
  else if (typeof value === "number") {
    REAL.writeDoubleBE(value);
    hash.update("R");
    hash.update(REAL);
  } else if (typeof value === "string") {
    hash.update(`T${Buffer.byteLength(value)}:`);
    hash.update(value);
  } else if (value instanceof Uint8Array) {
    hash.update(`B${value.length}:`);
    hash.update(value);
  } else {
    throw new UpgradeError("E_INTERNAL", `unexpected SQLite value of type ${typeof value} while fingerprinting`, {
      hint: "this is a bug of upgrade-machine: report it",
    });
  }
}

/** Collapses runs of whitespace, so re-indented but identical DDL hashes the same. */
function normaliseSql(sql: unknown): string | null {
  return typeof sql === "string" ? sql.replace(/\s+/g, " ").trim() : null;
}

function schemaHash(db: SqliteDb): string {
  const hash = createHash("sha256");
  hash.update(`user_version=${String(db.pragma("user_version", { simple: true }))};`);
  hash.update(`application_id=${String(db.pragma("application_id", { simple: true }))};`);
  const rows = db
    .prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name`)
    .raw(true)
    .iterate() as IterableIterator<unknown[]>;
  for (const [type, name, tblName, sql] of rows) {
    hash.update("S");
    for (const v of [type, name, tblName, normaliseSql(sql)]) hashValue(hash, v);
  }
  return hash.digest("hex");
}

/** The ORDER BY of a table: primary key (then rowid as a tie-break on rowid tables), or rowid. */
function orderBy(db: SqliteDb, table: TableListRow): string {
  const columns = db.pragma(`main.table_info(${quoteIdent(table.name)})`) as ColumnRow[];
  const pk = columns
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => quoteIdent(c.name));
  if (table.wr) return pk.join(", ");
  const names = new Set(columns.map((c) => c.name.toLowerCase()));
  const rowid = ["rowid", "_rowid_", "oid"].find((n) => !names.has(n));
  return [...pk, ...(rowid ? [rowid] : [])].join(", ");
}

function tableHash(db: SqliteDb, table: TableListRow): { rows: number; hash: string } {
  const hash = createHash("sha256");
  const order = orderBy(db, table);
  const stmt = db.prepare(`SELECT * FROM main.${quoteIdent(table.name)}${order ? ` ORDER BY ${order}` : ""}`);
  let rows = 0;
  for (const row of stmt.raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>) {
    hash.update(`r${row.length}:`);
    for (const value of row) hashValue(hash, value);
    rows++;
  }
  return { rows, hash: hash.digest("hex") };
}

/**
 * Fingerprints an open SQLite database in one read transaction (a consistent snapshot):
 * `schema` = sha256 over `user_version`, `application_id` and the `sqlite_master` rows (type,
 * name, tbl_name, whitespace-normalised sql) except SQLite's internal `sqlite_%` objects; per
 * table (drizzle's `__drizzle_migrations` and the AUTOINCREMENT counters of `sqlite_sequence`
 * included, virtual tables left to their shadow tables)
 * the row count and a sha256 over the rows in primary-key order (rowid order without a primary
 * key), values serialised with their type (null, integer, real, text, blob) and integers exact
 * (`safeIntegers`). Rows are streamed: memory stays constant whatever the size.
 */
export function fingerprintSqlite(db: SqliteDb): Fingerprint {
  const own = !db.inTransaction;
  if (own) db.exec("BEGIN");
  try {
    const schema = schemaHash(db);
    const list = (db.pragma("main.table_list") as TableListRow[])
      .filter((t) => t.schema === "main" && (t.type === "table" || t.type === "shadow"))
      // sqlite_sequence holds the AUTOINCREMENT counters: part of the content a restore must bring back
      .filter((t) => t.name === "sqlite_sequence" || !t.name.toLowerCase().startsWith("sqlite_"))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const tables: Fingerprint["tables"] = {};
    for (const table of list) {
      // defineProperty: a table named like an Object.prototype member (`__proto__`) stays data.
      Object.defineProperty(tables, table.name, { value: tableHash(db, table), enumerable: true, writable: true, configurable: true });
    }
    const hash = createHash("sha256")
      .update(JSON.stringify({ schema, tables: list.map((t) => [t.name, tables[t.name]?.rows, tables[t.name]?.hash]) }))
      .digest("hex");
    return { schema, tables, hash };
  } finally {
    if (own && db.inTransaction) db.exec("COMMIT");
  }
}
