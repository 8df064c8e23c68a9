import { isUpgradeError } from "../../errors.js";
import { runMigrations } from "../../migrations/runner.js";
import { journalMigrationsDir } from "../../package-root.js";
import { ServerJournalStore, missingJournalDatabase, type SqlJournalDriver, type SqlRunner } from "../../journal/server-store.js";
import type { JournalStore } from "../../journal/types.js";
import { describeTarget } from "../../url.js";
import { mysqlError, openMysql, type MysqlPool, type MysqlTarget } from "./connection.js";
import { createMysqlMigrationDriver } from "./migration-driver.js";

type Queryable = Pick<MysqlPool, "query">;

function runner(db: Queryable): SqlRunner {
  return {
    rows: async <T>(text: string, params: unknown[] = []) => (await db.query(text, params))[0] as T[],
    // Matched rows, not changed rows: mysql2 connects with CLIENT_FOUND_ROWS.
    count: async (text: string, params: unknown[] = []) => ((await db.query(text, params))[0] as { affectedRows: number }).affectedRows,
  };
}

/**
 * A journal in a MySQL / MariaDB database of its own (shared by several machines): the shared
 * server store on mysql2. Its tables come from schema/mysql.ts and their drizzle-kit migrations
 * (schema/migrations/mysql), applied under `GET_LOCK` when the store opens, so two processes
 * opening a new journal at once are safe. The database must exist.
 *
 * @throws UpgradeError E_CONNECT, E_AUTH, E_NOT_FOUND (with the statement that creates it), E_JOURNAL.
 */
export async function openMysqlJournal(target: MysqlTarget): Promise<JournalStore> {
  const pool = await openMysql(target, target.database, 4);
  try {
    await pool.query("SELECT 1");
    await runMigrations(createMysqlMigrationDriver({ target, connection: async () => pool }), journalMigrationsDir("mysql"), {
      lockTimeoutMs: 30_000,
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    const mapped = mysqlError(err, target, "opening the journal", "E_JOURNAL");
    if (isUpgradeError(mapped, "E_NOT_FOUND"))
      throw missingJournalDatabase(target.database, `CREATE DATABASE \`${target.database}\` CHARACTER SET utf8mb4;`, err);
    throw mapped;
  }
  const driver: SqlJournalDriver = {
    display: describeTarget(target),
    nowMs: "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED)",
    ...runner(pool),
    async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        const result = await fn(runner(conn));
        await conn.commit();
        return result;
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    },
    classify(err) {
      const code = (err as { code?: string }).code;
      if (code === "ER_DUP_ENTRY") return "duplicate";
      return code === "ER_LOCK_DEADLOCK" || code === "ER_LOCK_WAIT_TIMEOUT" ? "retry" : "other";
    },
    fail: (err, what) => mysqlError(err, target, what, "E_JOURNAL"),
    close: () => pool.end(),
  };
  return new ServerJournalStore(driver);
}
