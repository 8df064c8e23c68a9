import { type UpgradeError, isUpgradeError } from "../../errors.js";
import { runMigrations } from "../../migrations/runner.js";
import { journalMigrationsDir } from "../../package-root.js";
import { ServerJournalStore, missingJournalDatabase, type SqlJournalDriver, type SqlRunner } from "../../journal/server-store.js";
import type { JournalStore } from "../../journal/types.js";
import { describeTarget } from "../../url.js";
import { openPg, pgError, type PgSql, type PostgresTarget } from "./connection.js";
import { createPostgresMigrationDriver } from "./migration-driver.js";

/** `?` placeholders as PostgreSQL's `$1, $2...` (the store's SQL holds no other `?`). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Sql = Pick<PgSql, "unsafe">;

function runner(sql: Sql): SqlRunner {
  return {
    rows: async <T>(text: string, params: unknown[] = []) => [...(await sql.unsafe(numbered(text), params as never[]))] as T[],
    count: async (text: string, params: unknown[] = []) => (await sql.unsafe(numbered(text), params as never[])).count,
  };
}

/**
 * A journal in a PostgreSQL database of its own (shared by several machines): the shared
 * server store on postgres.js. Its tables come from schema/pg.ts and their drizzle-kit
 * migrations (schema/migrations/pg), applied under the advisory lock when the store opens, so
 * two processes opening a new journal at once are safe. The database must exist.
 *
 * @throws UpgradeError E_CONNECT, E_AUTH, E_NOT_FOUND (with the statement that creates it), E_JOURNAL.
 */
export async function openPostgresJournal(target: PostgresTarget): Promise<JournalStore> {
  const sql = await openPg(target, 4);
  try {
    await sql`SELECT 1`;
    await runMigrations(createPostgresMigrationDriver({ target, connection: async () => sql }), journalMigrationsDir("pg"), {
      lockTimeoutMs: 30_000,
    });
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    const mapped = pgError(err, target, "opening the journal", "E_JOURNAL");
    if (isUpgradeError(mapped, "E_NOT_FOUND"))
      throw missingJournalDatabase(target.database, `CREATE DATABASE ${JSON.stringify(target.database)};`, err);
    throw mapped;
  }
  const driver: SqlJournalDriver = {
    display: describeTarget(target),
    nowMs: "(extract(epoch from clock_timestamp()) * 1000)::bigint",
    ...runner(sql),
    transaction: <T>(fn: (tx: SqlRunner) => Promise<T>) => sql.begin((tx) => fn(runner(tx))) as Promise<T>,
    classify(err) {
      const code = (err as { code?: string }).code;
      if (code === "23505") return "duplicate";
      return code === "40001" || code === "40P01" ? "retry" : "other";
    },
    fail: (err, what): UpgradeError => pgError(err, target, what, "E_JOURNAL"),
    close: () => sql.end({ timeout: 5 }),
  };
  return new ServerJournalStore(driver);
}
