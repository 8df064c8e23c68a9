import type { DataSnapshot } from "../types.js";
import { describeTarget } from "../../url.js";
import { openPg, pgError, quoteIdent, type PostgresTarget } from "./connection.js";
import { postgresCost } from "./lint-costs.js";

const REL = "(quote_ident(current_schema()) || '.' || quote_ident($1))::regclass";

/**
 * A read-only snapshot of a PostgreSQL database: one connection of its own in one REPEATABLE
 * READ, READ ONLY transaction (every count sees the same data; nothing can be written).
 */
export async function openPgSnapshot(target: PostgresTarget): Promise<DataSnapshot> {
  const sql = await openPg(target, 1);
  const query = async <T extends object>(text: string, params: (string | number)[] = []): Promise<T[]> => {
    try {
      return (await sql.unsafe(text, params)) as unknown as T[];
    } catch (err) {
      throw pgError(err, target, "reading the data for the lint");
    }
  };
  try {
    await query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw err;
  }
  return {
    source: `${describeTarget(target)}, one REPEATABLE READ READ ONLY transaction`,
    quote: quoteIdent,
    charLength: (expr) => `char_length(${expr}::text)`,
    async count(text) {
      const [row] = await query<Record<string, unknown>>(text);
      return Number(Object.values(row ?? {})[0] ?? 0);
    },
    async tables() {
      const rows = await query<{ name: string }>(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1",
      );
      return rows.map((r) => r.name);
    },
    async columns(table) {
      return query<{ name: string; type: string }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = ${REL} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [table],
      );
    },
    async cascadeChildren(table) {
      return query<{ table: string; columns: string[] }>(
        `SELECT cl.relname AS "table", array_agg(att.attname::text ORDER BY k.ord) AS columns
           FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
           CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum
          WHERE con.contype = 'f' AND con.confdeltype = 'c' AND con.confrelid = ${REL}
          GROUP BY con.oid, cl.relname ORDER BY 1`,
        [table],
      );
    },
    async tableBytes(table) {
      const [row] = await query<{ n: string }>(`SELECT pg_total_relation_size(${REL}) AS n`, [table]);
      return Number(row?.n ?? 0);
    },
    async applied() {
      const [found] = await query<{ t: string | null }>(`SELECT to_regclass('"drizzle"."__drizzle_migrations"')::text AS t`);
      if (!found?.t) return [];
      const rows = await query<{ hash: string; created_at: string | null }>(
        `SELECT hash, created_at FROM "drizzle"."__drizzle_migrations" ORDER BY created_at, id`,
      );
      return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }));
    },
    costOf: postgresCost,
    async close() {
      await query("ROLLBACK").catch(() => undefined);
      await sql.end({ timeout: 5 });
    },
  };
}
