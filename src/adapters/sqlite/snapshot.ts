import type { AppliedMigration } from "../../migrations/types.js";
import { exists, removeIfExists } from "../../fs/durable.js";
import type { DataSnapshot } from "../types.js";
import { openSqlite, quoteIdent } from "./connection.js";

interface ForeignKeyRow {
  id: number;
  table: string;
  from: string;
  on_delete: string;
}

/**
 * A read-only snapshot of a SQLite file (the hot backup, or the live file in `plan`), in one read
 * transaction. A backup of a WAL database is a WAL database: the -wal and -shm files a read-only
 * connection creates beside it are removed on close, as `fingerprintBackup` does.
 */
export async function openSqliteSnapshot(path: string, busyTimeoutMs: number, source: string): Promise<DataSnapshot> {
  const sidecars = [`${path}-wal`, `${path}-shm`];
  const existed = await Promise.all(sidecars.map(exists));
  const db = await openSqlite(path, { readonly: true, busyTimeoutMs });
  db.exec("BEGIN");
  db.prepare("SELECT COUNT(*) FROM sqlite_master").get(); // the read transaction starts at the first read
  const tables = (): string[] =>
    (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  return {
    source,
    quote: quoteIdent,
    charLength: (expr) => `length(${expr})`,
    async count(sql) {
      const row = db.prepare(sql).raw().get() as unknown[] | undefined;
      return Number(row?.[0] ?? 0);
    },
    tables: async () => tables(),
    async columns(table) {
      return (db.pragma(`main.table_info(${quoteIdent(table)})`) as { name: string; type: string }[]).map((c) => ({
        name: c.name,
        type: c.type,
      }));
    },
    async cascadeChildren(table) {
      const out = [];
      for (const child of tables()) {
        const keys = db.pragma(`main.foreign_key_list(${quoteIdent(child)})`) as ForeignKeyRow[];
        const ids = [
          ...new Set(
            keys.filter((k) => k.table.toLowerCase() === table.toLowerCase() && k.on_delete.toUpperCase() === "CASCADE").map((k) => k.id),
          ),
        ];
        for (const id of ids) out.push({ table: child, columns: keys.filter((k) => k.id === id).map((k) => k.from) });
      }
      return out;
    },
    tableBytes: async () => null,
    async applied(): Promise<AppliedMigration[]> {
      if (!tables().includes("__drizzle_migrations")) return [];
      const rows = db.prepare(`SELECT hash, created_at FROM "__drizzle_migrations" ORDER BY created_at, rowid`).all() as {
        hash: string;
        created_at: unknown;
      }[];
      return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }));
    },
    costOf: () => null,
    async close() {
      if (db.inTransaction) db.exec("ROLLBACK");
      db.close();
      await removeIfExists(...sidecars.filter((_, i) => !existed[i]));
    },
  };
}
