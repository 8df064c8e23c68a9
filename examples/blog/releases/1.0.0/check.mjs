// Verifies that a blog database matches THIS release (run by `ctl.sh check`, which the
// upgrade's verify step calls). Opens the database read-only and checks:
//   * every table of ./schema.mjs exists with every column (type, NOT NULL), index and foreign key;
//   * PRAGMA foreign_key_check is empty and PRAGMA quick_check says ok;
//   * __drizzle_migrations has exactly the entries of ./drizzle/meta/_journal.json
//     (count, and per row: created_at = journal `when`, hash = sha256 of the .sql file,
//     the way drizzle-orm's migrate() records them);
//   * optionally, when $BLOG_MIN_ROWS names an existing JSON file {"<table>": <n>, ...} (ctl.sh
//     passes $BLOG_HOME/min-rows.json, written by prepare.sh/seed.mjs): each table holds at
//     least that many rows. The service never deletes rows, so fewer rows means lost data --
//     e.g. comments wiped by ON DELETE CASCADE when a migration rebuilt `posts`.
// Exit 0 and one "check ok" line when all hold; otherwise every problem on stderr, exit 1.
//
//   node check.mjs [dbfile]      (default: $BLOG_DB, else <install>/data/blog.sqlite)
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { is } from "drizzle-orm";
import { SQLiteTable, getTableConfig } from "drizzle-orm/sqlite-core";
import * as schema from "./schema.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const VERSION = readFileSync(join(here, "VERSION"), "utf8").trim();
const migrationsDir = join(here, "drizzle");
const journal = JSON.parse(readFileSync(join(migrationsDir, "meta", "_journal.json"), "utf8"));
const dbPath = resolve(process.argv[2] || process.env.BLOG_DB || join(here, "..", "..", "data", "blog.sqlite"));

const problems = [];

let sqlite;
try {
  sqlite = new Database(dbPath, { readonly: true, fileMustExist: true });
} catch (err) {
  console.error(`check FAILED for release ${VERSION}: cannot open ${dbPath} read-only: ${err.message}`);
  process.exit(1);
}

const q = (text, ...args) => sqlite.prepare(text).all(...args);
const ident = (name) => `"${name.replaceAll('"', '""')}"`;

// ---- tables, columns, indexes, foreign keys ---------------------------------------------

const tables = Object.values(schema).filter((value) => is(value, SQLiteTable));
for (const table of tables) {
  const config = getTableConfig(table);
  const name = config.name;
  const columns = new Map(q(`PRAGMA table_info(${ident(name)})`).map((c) => [c.name, c]));
  if (columns.size === 0) {
    problems.push(`table ${name} is missing`);
    continue;
  }
  for (const column of config.columns) {
    const actual = columns.get(column.name);
    if (!actual) {
      problems.push(`column ${name}.${column.name} is missing`);
      continue;
    }
    const wantType = column.getSQLType().toLowerCase();
    if (actual.type.toLowerCase() !== wantType) {
      problems.push(`column ${name}.${column.name} has type ${actual.type}, release ${VERSION} expects ${wantType}`);
    }
    const wantNotNull = column.notNull || column.primary;
    if (Boolean(actual.notnull) !== Boolean(wantNotNull)) {
      problems.push(
        `column ${name}.${column.name} is ${actual.notnull ? "NOT NULL" : "nullable"}, release ${VERSION} expects ${wantNotNull ? "NOT NULL" : "nullable"}`,
      );
    }
  }

  const indexes = new Set(q(`PRAGMA index_list(${ident(name)})`).map((i) => i.name));
  for (const index of config.indexes) {
    if (!indexes.has(index.config.name)) problems.push(`index ${index.config.name} on ${name} is missing`);
  }

  const fks = q(`PRAGMA foreign_key_list(${ident(name)})`);
  for (const fk of config.foreignKeys) {
    const ref = fk.reference();
    const target = getTableConfig(ref.foreignTable).name;
    const from = ref.columns.map((c) => c.name).join(",");
    const to = ref.foreignColumns.map((c) => c.name).join(",");
    const onDelete = (fk.onDelete || "no action").toUpperCase();
    const found = fks.some((row) => row.table === target && row.from === from && row.to === to && row.on_delete.toUpperCase() === onDelete);
    if (!found) problems.push(`foreign key ${name}(${from}) -> ${target}(${to}) ON DELETE ${onDelete} is missing`);
  }
}

// ---- integrity -----------------------------------------------------------------------------

const violations = q("PRAGMA foreign_key_check");
if (violations.length > 0) {
  const sample = violations
    .slice(0, 5)
    .map((v) => `${v.table} rowid ${v.rowid} -> ${v.parent}`)
    .join("; ");
  problems.push(`PRAGMA foreign_key_check: ${violations.length} violation(s), e.g. ${sample}`);
}
const quick = q("PRAGMA quick_check").map((r) => r.quick_check);
if (quick.length !== 1 || quick[0] !== "ok") problems.push(`PRAGMA quick_check: ${quick.slice(0, 5).join("; ")}`);

// ---- drizzle bookkeeping -------------------------------------------------------------------

const entries = journal.entries;
const hasBookkeeping = q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").length > 0;
const rows = hasBookkeeping ? q("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at, id") : [];
if (rows.length !== entries.length) {
  problems.push(`__drizzle_migrations has ${rows.length} rows, release ${VERSION} has ${entries.length} migrations`);
}
for (let i = 0; i < Math.min(rows.length, entries.length); i++) {
  const entry = entries[i];
  const text = readFileSync(join(migrationsDir, `${entry.tag}.sql`)).toString();
  const hash = createHash("sha256").update(text).digest("hex");
  if (Number(rows[i].created_at) !== entry.when) {
    problems.push(`__drizzle_migrations row ${i + 1}: created_at ${rows[i].created_at}, journal entry ${entry.tag} has when ${entry.when}`);
  }
  if (rows[i].hash !== hash) problems.push(`__drizzle_migrations row ${i + 1}: hash differs from ${entry.tag}.sql`);
}

// ---- row floors (optional) ---------------------------------------------------------------

const minRowsFile = process.env.BLOG_MIN_ROWS;
if (minRowsFile && existsSync(minRowsFile)) {
  const floors = JSON.parse(readFileSync(minRowsFile, "utf8"));
  for (const [table, min] of Object.entries(floors)) {
    const exists = q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).length > 0;
    if (!exists) continue; // reported above when the release's schema has it
    const n = q(`SELECT count(*) AS n FROM ${ident(table)}`)[0].n;
    if (n < min) {
      problems.push(`table ${table} has ${n} rows, at least ${min} expected (${minRowsFile}; the service never deletes rows): data lost`);
    }
  }
}

sqlite.close();

if (problems.length > 0) {
  for (const p of problems) console.error(`  - ${p}`);
  console.error(`check FAILED for release ${VERSION} on ${dbPath}: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check ok: release ${VERSION}, ${tables.length} tables, ${rows.length} migrations, ${dbPath}`);
