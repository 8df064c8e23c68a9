import type { DataSnapshot } from "../types.js";
import { describeTarget } from "../../url.js";
import { mysqlError, openMysql, quoteIdent, type MysqlTarget } from "./connection.js";
import { mysqlCost } from "./lint-costs.js";

/**
 * A read-only snapshot of a MySQL/MariaDB database: one connection of its own in one REPEATABLE
 * READ, READ ONLY transaction started WITH CONSISTENT SNAPSHOT (InnoDB's counts all see the same
 * data; the catalog's `information_schema` is read as it is).
 */
export async function openMysqlSnapshot(target: MysqlTarget): Promise<DataSnapshot> {
  const pool = await openMysql(target, target.database, 1);
  const query = async <T extends object>(text: string, params: (string | number)[] = []): Promise<T[]> => {
    try {
      const [rows] = await pool.query(text, params);
      return rows as T[];
    } catch (err) {
      throw mysqlError(err, target, "reading the data for the lint");
    }
  };
  try {
    await query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    await query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return {
    source: `${describeTarget(target)}, one REPEATABLE READ READ ONLY transaction`,
    quote: quoteIdent,
    charLength: (expr) => `CHAR_LENGTH(${expr})`,
    async count(text) {
      const [row] = await query<Record<string, unknown>>(text);
      return Number(Object.values(row ?? {})[0] ?? 0);
    },
    async tables() {
      const rows = await query<{ name: string }>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
      );
      return rows.map((r) => r.name);
    },
    async columns(table) {
      return query<{ name: string; type: string }>(
        "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        [table],
      );
    },
    async cascadeChildren(table) {
      const rows = await query<{ child: string; name: string; col: string }>(
        `SELECT r.TABLE_NAME AS child, r.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col
           FROM information_schema.REFERENTIAL_CONSTRAINTS r
           JOIN information_schema.KEY_COLUMN_USAGE k
             ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME AND k.TABLE_NAME = r.TABLE_NAME
          WHERE r.CONSTRAINT_SCHEMA = DATABASE() AND r.REFERENCED_TABLE_NAME = ? AND r.DELETE_RULE = 'CASCADE'
          ORDER BY r.TABLE_NAME, r.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
        [table],
      );
      const byKey = new Map<string, { table: string; columns: string[] }>();
      for (const r of rows) {
        const k = `${r.child}\u0000${r.name}`;
        const entry = byKey.get(k) ?? { table: r.child, columns: [] };
        entry.columns.push(r.col);
        byKey.set(k, entry);
      }
      return [...byKey.values()];
    },
    async tableBytes(table) {
      const [row] = await query<{ n: string | number | null }>(
        "SELECT DATA_LENGTH + INDEX_LENGTH AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        [table],
      );
      return Number(row?.n ?? 0);
    },
    async applied() {
      const found = await query(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '__drizzle_migrations'",
      );
      if (found.length === 0) return [];
      const rows = await query<{ hash: string; created_at: string | number | null }>(
        "SELECT hash, created_at FROM `__drizzle_migrations` ORDER BY created_at, id",
      );
      return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }));
    },
    costOf: mysqlCost,
    async close() {
      await query("ROLLBACK").catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
