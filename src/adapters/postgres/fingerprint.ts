import { createHash, type Hash } from "node:crypto";
import type { TransactionSql } from "postgres";
import type { Fingerprint } from "../types.js";
import { quoteIdent, type PgSql } from "./connection.js";

/** Schemas that belong to PostgreSQL itself. */
const USER_NS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
/** Objects created by an extension are the extension's (its version is hashed instead). */
const NOT_EXT = (oid: string): string => `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = ${oid} AND e.deptype = 'e')`;
const C = `COLLATE "C"`;

/**
 * The catalog queries whose rows make up the schema hash, in a fixed order; rows carry names,
 * never OIDs (which a restore changes). Column positions are counted over live columns,
 * so a restore (which drops dropped columns) hashes like the original.
 */
const SCHEMA_QUERIES: [string, string][] = [
  ["schema", `SELECT n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n WHERE ${USER_NS} AND ${NOT_EXT("n.oid")}`],
  ["extension", `SELECT extname, extversion, n.nspname FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace`],
  [
    "relation",
    `SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relpersistence, c.reloptions::text, c.relacl::text
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NS} AND c.relkind IN ('r','p','v','m','S','f','c') AND ${NOT_EXT("c.oid")}`,
  ],
  [
    "column",
    `SELECT n.nspname, c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, co.collname
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0 AND co.collname <> 'default'
     WHERE ${USER_NS} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m','f','c') AND ${NOT_EXT("c.oid")}`,
  ],
  [
    "constraint",
    `SELECT n.nspname, c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid, true)
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NS}`,
  ],
  [
    "index",
    `SELECT n.nspname, i.relname, pg_get_indexdef(x.indexrelid)
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
     WHERE ${USER_NS}`,
  ],
  [
    "sequence",
    `SELECT schemaname, sequencename, data_type::text, start_value, min_value, max_value, increment_by, cycle, last_value
     FROM pg_sequences s WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  ],
  [
    "view",
    `SELECT n.nspname, c.relname, pg_get_viewdef(c.oid, true) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NS} AND c.relkind IN ('v','m') AND ${NOT_EXT("c.oid")}`,
  ],
  [
    "function",
    `SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(pg_get_functiondef(p.oid))
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${USER_NS} AND p.prokind IN ('f','p') AND ${NOT_EXT("p.oid")}`,
  ],
  [
    "trigger",
    `SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_NS} AND NOT t.tgisinternal`,
  ],
  [
    "type",
    `SELECT n.nspname, t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE ${USER_NS} AND t.typtype IN ('e','d') AND ${NOT_EXT("t.oid")}`,
  ],
];

async function schemaHash(tx: TransactionSql): Promise<string> {
  const hash = createHash("sha256");
  for (const [kind, query] of SCHEMA_QUERIES) {
    // Each row names its object, so sorting the serialised rows is a stable, collation-free order.
    const rows = (await tx.unsafe(query).values()).map((row) => JSON.stringify(row)).sort();
    for (const row of rows) hash.update(`${kind}:${row}\n`);
  }
  return hash.digest("hex");
}

interface TableRow {
  schema: string;
  name: string;
  pk: string[] | null;
}

/** Rows fetched per round trip: bounds the memory a fingerprint needs, whatever the table size. */
const BATCH = 2000;

/**
 * Streams `SELECT t::text ... ORDER BY pk` through a cursor (BATCH rows at a time) into the hash,
 * each row's canonical text length-prefixed. (Not `COPY ... TO STDOUT`: postgres.js can leave its
 * socket paused when a COPY stream ends under backpressure, hanging the next query.)
 */
async function tableHash(tx: TransactionSql, table: TableRow): Promise<{ rows: number; hash: string }> {
  const rel = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  // No primary key: order by the whole row as text, which every type has.
  const order = table.pk && table.pk.length > 0 ? table.pk.map(quoteIdent).join(", ") : `t::text ${C}`;
  const hash: Hash = createHash("sha256");
  let rows = 0;
  const cursor = tx.unsafe(`SELECT t::text FROM ${rel} AS t ORDER BY ${order}`).raw().cursor(BATCH);
  for await (const batch of cursor as AsyncIterable<(Buffer | null)[][]>) {
    for (const [text] of batch) {
      const value = text ?? Buffer.alloc(0);
      hash.update(`${value.length}:`);
      hash.update(value);
      rows++;
    }
  }
  return { rows, hash: hash.digest("hex") };
}

/** The key of a table in `Fingerprint.tables`: its name, schema-qualified outside `public`. */
export function tableKey(schema: string, name: string): string {
  return schema === "public" ? name : `${schema}.${name}`;
}

/**
 * Fingerprints a PostgreSQL database in one `REPEATABLE READ READ ONLY` transaction (one
 * snapshot): `schema` = sha256 over the catalog (schemas, extensions, relations with owners and
 * privileges, live columns with types, defaults, identity and collation, constraints, indexes,
 * sequences with their current value, views, functions, triggers, enums and domains; names,
 * never OIDs); per ordinary table (drizzle's bookkeeping included) the row count and a sha256
 * over each row's text in primary-key order, streamed through a cursor: memory stays constant
 * whatever the size. The session's settings (UTC, ISO dates, exact floats, hex bytea) make the text canonical.
 */
export async function fingerprintPostgres(sql: PgSql): Promise<Fingerprint> {
  return sql.begin("isolation level repeatable read read only", async (tx) => {
    const schema = await schemaHash(tx);
    const list = (await tx.unsafe(`
      SELECT n.nspname AS schema, c.relname AS name,
        (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_constraint p
           CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.attnum
          WHERE p.conrelid = c.oid AND p.contype = 'p') AS pk
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND ${USER_NS}
      ORDER BY n.nspname ${C}, c.relname ${C}`)) as unknown as TableRow[];
    const tables: Fingerprint["tables"] = {};
    const keys: string[] = [];
    for (const table of list) {
      const key = tableKey(table.schema, table.name);
      keys.push(key);
      Object.defineProperty(tables, key, { value: await tableHash(tx, table), enumerable: true, writable: true, configurable: true });
    }
    const hash = createHash("sha256")
      .update(JSON.stringify({ schema, tables: keys.map((k) => [k, tables[k]?.rows, tables[k]?.hash]) }))
      .digest("hex");
    return { schema, tables, hash };
  }) as Promise<Fingerprint>;
}
