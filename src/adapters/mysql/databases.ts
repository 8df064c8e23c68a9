import { createHash } from "node:crypto";
import type { PoolConnection } from "mysql2/promise";
import { quoteIdent } from "./connection.js";

/** MySQL and MariaDB limit database names to 64 characters. */
const MAX_NAME = 64;

/**
 * A database name derived from `database` (`<database>__um_<suffix>`), shortened with a hash when
 * it would exceed 64 characters, so it never silently truncates into another database's name.
 */
export function derivedName(database: string, suffix: string): string {
  const full = `${database}__um_${suffix}`;
  if ([...full].length <= MAX_NAME) return full;
  const tag = `__um_${suffix.slice(0, 8)}_${createHash("sha256").update(full).digest("hex").slice(0, 12)}`;
  return [...database].slice(0, MAX_NAME - tag.length).join("") + tag;
}

/** Everything that belongs to one database, by kind (names only). */
export interface DatabaseObjects {
  /** Base tables, sequences and system-versioned tables: what RENAME TABLE can move. */
  tables: string[];
  views: string[];
  triggers: string[];
  /** Stored procedures, functions and (MariaDB) packages, with their type. */
  routines: { name: string; type: string }[];
  events: string[];
}

async function names(conn: PoolConnection, sql: string, db: string): Promise<Record<string, unknown>[]> {
  const [rows] = await conn.query(sql, [db]);
  return rows as Record<string, unknown>[];
}

/** Lists the objects of `db` from information_schema (empty lists when it does not exist). */
export async function listObjects(conn: PoolConnection, db: string): Promise<DatabaseObjects> {
  const tables = await names(conn, "SELECT TABLE_NAME AS n, TABLE_TYPE AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", db);
  return {
    tables: tables.filter((r) => r.t !== "VIEW").map((r) => String(r.n)),
    views: tables.filter((r) => r.t === "VIEW").map((r) => String(r.n)),
    triggers: (await names(conn, "SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?", db)).map((r) =>
      String(r.n),
    ),
    routines: (
      await names(conn, "SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS t FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?", db)
    ).map((r) => ({ name: String(r.n), type: String(r.t) })),
    events: (await names(conn, "SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?", db)).map((r) => String(r.n)),
  };
}

/** True when `db` holds only tables: nothing that RENAME TABLE cannot carry to another database. */
export function onlyTables(objects: DatabaseObjects): boolean {
  return objects.views.length + objects.triggers.length + objects.routines.length + objects.events.length === 0;
}

/** True when the database exists. */
export async function databaseExists(conn: PoolConnection, db: string): Promise<boolean> {
  return (await names(conn, "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db)).length > 0;
}

// Packages before their bodies would fail: MariaDB refuses to drop a package that has a body.
const ROUTINE_ORDER = ["PACKAGE BODY", "PROCEDURE", "FUNCTION", "PACKAGE"];

/**
 * Drops the objects of `db` that are not tables (triggers, views, routines, events), then its
 * tables too unless `keepTables`: the database itself, with its grants, character set and
 * comment, stays. Foreign-key checks are off on `conn` for the drop (they would refuse dropping
 * a parent before its children).
 */
export async function emptyDatabase(conn: PoolConnection, db: string, objects: DatabaseObjects, keepTables = false): Promise<void> {
  const q = (name: string): string => `${quoteIdent(db)}.${quoteIdent(name)}`;
  for (const name of objects.triggers) await conn.query(`DROP TRIGGER IF EXISTS ${q(name)}`);
  for (const name of objects.events) await conn.query(`DROP EVENT IF EXISTS ${q(name)}`);
  for (const name of objects.views) await conn.query(`DROP VIEW IF EXISTS ${q(name)}`);
  const routines = [...objects.routines].sort((a, b) => ROUTINE_ORDER.indexOf(a.type) - ROUTINE_ORDER.indexOf(b.type));
  for (const r of routines) await conn.query(`DROP ${r.type} IF EXISTS ${q(r.name)}`);
  if (keepTables || objects.tables.length === 0) return;
  await conn.query("SET SESSION foreign_key_checks = 0");
  try {
    await conn.query(`DROP TABLE IF EXISTS ${objects.tables.map(q).join(", ")}`);
  } finally {
    await conn.query("SET SESSION foreign_key_checks = 1");
  }
}

/**
 * Moves every table of `live` into `trash` and every table of `scratch` into `live` in ONE
 * `RENAME TABLE` statement: atomic (MariaDB 10.6+ and MySQL 8 recover a crash half-way to the
 * state before it), so `live` always holds either all of its old tables or all of the new ones.
 * Neither side may have triggers (MySQL refuses to move them across databases).
 */
export async function swapTables(
  conn: PoolConnection,
  live: string,
  liveTables: string[],
  scratch: string,
  scratchTables: string[],
  trash: string,
): Promise<void> {
  const move = (from: string, to: string, name: string): string =>
    `${quoteIdent(from)}.${quoteIdent(name)} TO ${quoteIdent(to)}.${quoteIdent(name)}`;
  const pairs = [...liveTables.map((t) => move(live, trash, t)), ...scratchTables.map((t) => move(scratch, live, t))];
  if (pairs.length > 0) await conn.query(`RENAME TABLE ${pairs.join(", ")}`);
}
