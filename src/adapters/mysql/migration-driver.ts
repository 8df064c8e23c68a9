import { createHash } from "node:crypto";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { ApplyOptions, AppliedMigration, MigrationDriver, MigrationFile } from "../../migrations/types.js";
import { describeTarget, redactSecrets } from "../../url.js";
import { mysqlError, quoteIdent, type MysqlPool, type MysqlTarget } from "./connection.js";

/** Options of `createMysqlMigrationDriver`. */
export interface MysqlMigrationDriverOptions {
  target: MysqlTarget;
  /** The adapter's pool, opened on demand; it must allow two connections (the lock holds one). */
  connection: () => Promise<MysqlPool>;
  /** drizzle's `migrationsTable`; default `__drizzle_migrations`. */
  table?: string;
}

const CONNECTION_LOST = new Set(["ECONNREFUSED", "ECONNRESET", "PROTOCOL_CONNECTION_LOST", "ETIMEDOUT"]);

/** GET_LOCK names are server-wide and at most 64 characters: the database is part of the name. */
export function migrationLockName(database: string, table: string): string {
  const name = `upgrade-machine:migrate:${database}.${table}`;
  return name.length <= 64 ? name : `upgrade-machine:migrate:${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
}

/**
 * The MySQL / MariaDB side of the drizzle-kit migration runner. Bookkeeping is drizzle's own
 * (`__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`), the
 * lock `GET_LOCK(<name>, <timeout>)` on a connection of its own (released when that connection
 * ends, even if the process is killed). MySQL commits DDL implicitly, so a migration cannot be
 * rolled back: its statements run one by one (inside a transaction, which undoes DML since the
 * last DDL at most), and a failure throws E_MIGRATION_FAILED naming the statement that failed
 * (index and first 200 characters) and every statement that ran before it and stays applied;
 * the migration is not recorded, and the backup must be restored.
 */
export function createMysqlMigrationDriver(options: MysqlMigrationDriverOptions): MigrationDriver {
  const table = options.table ?? "__drizzle_migrations";
  const q = quoteIdent(table);
  const where = describeTarget(options.target);
  const lockName = migrationLockName(options.target.database, table);
  const fail = (err: unknown, what: string): UpgradeError => mysqlError(err, options.target, what, "E_MIGRATION_FAILED");

  return {
    capabilities: { transactionalDdl: false },

    async lock(timeoutMs: number) {
      const pool = await options.connection();
      const conn = await pool.getConnection().catch((err: unknown) => {
        throw mysqlError(err, options.target, "taking the migration lock");
      });
      try {
        const [result] = await conn.query("SELECT GET_LOCK(?, ?) AS ok", [lockName, Math.max(0, timeoutMs) / 1000]);
        const ok = (result as { ok: number | string | null }[])[0]?.ok;
        if (Number(ok) !== 1) {
          throw new UpgradeError(
            "E_LOCKED",
            `another process is migrating ${where} (it holds the lock ${lockName}); waited ${timeoutMs} ms`,
            {
              hint: "wait for the other migration to finish and run again; the lock is released as soon as that process's connection ends",
              details: { target: where, lock: lockName, timeoutMs },
            },
          );
        }
      } catch (err) {
        conn.release();
        throw mysqlError(err, options.target, "taking the migration lock");
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        try {
          await conn.query("SELECT RELEASE_LOCK(?)", [lockName]);
        } finally {
          conn.release();
        }
      };
    },

    async ensureBookkeeping() {
      const pool = await options.connection();
      await pool
        .query(`
			create table if not exists ${q} (
				id serial primary key,
				hash text not null,
				created_at bigint
			)
		`)
        .catch((err: unknown) => {
          throw fail(err, "creating drizzle's bookkeeping table");
        });
    },

    async applied(): Promise<AppliedMigration[]> {
      const pool = await options.connection();
      try {
        const [found] = await pool.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [
          table,
        ]);
        if ((found as unknown[]).length === 0) return [];
        const [rows] = await pool.query(`SELECT hash, created_at FROM ${q} ORDER BY created_at, id`);
        return (rows as { hash: string; created_at: string | number | null }[]).map((r) => ({
          hash: r.hash,
          createdAt: Number(r.created_at),
        }));
      } catch (err) {
        throw mysqlError(err, options.target, "reading drizzle's bookkeeping table");
      }
    },

    async apply(migration: MigrationFile, applyOptions: ApplyOptions = {}) {
      const pool = await options.connection();
      const conn = await pool.getConnection().catch((err: unknown) => {
        throw mysqlError(err, options.target, `migration ${migration.tag}`);
      });
      const statements = migration.statements;
      let index = -1;
      try {
        await conn.query("START TRANSACTION");
        for (index = 0; index < statements.length; index++) {
          applyOptions.onStatement?.(index, statements.length);
          await conn.query(statements[index]!);
        }
        index = statements.length;
        await conn.query(`INSERT INTO ${q} (\`hash\`, \`created_at\`) VALUES (?, ?)`, [migration.hash, migration.when]);
        await conn.query("COMMIT");
        conn.release();
      } catch (err) {
        await conn.query("ROLLBACK").catch(() => undefined);
        conn.release();
        if (isUpgradeError(err)) throw err;
        const code = (err as { code?: string }).code;
        if (code !== undefined && CONNECTION_LOST.has(code)) throw mysqlError(err, options.target, `migration ${migration.tag}`);
        throw partialFailure(migration, index, err, options.target.password);
      }
    },
  };
}

/** E_MIGRATION_FAILED naming the failing statement and the ones that ran before it (and stay). */
function partialFailure(migration: MigrationFile, index: number, err: unknown, password: string | undefined): UpgradeError {
  const statements = migration.statements;
  const failed = index < statements.length ? index : -1;
  const ranBefore = statements
    .slice(0, Math.max(0, Math.min(index, statements.length)))
    .map((s, i) => ({ index: i, statement: s.slice(0, 200) }));
  const message = redactSecrets((err as Error).message, [password ?? ""]);
  const at = failed >= 0 ? `statement ${failed + 1} of ${statements.length}` : "its bookkeeping row";
  const before =
    ranBefore.length === 0
      ? "no statement of it had run"
      : `statement(s) 1-${ranBefore.length} had run and stay applied (MySQL commits DDL implicitly)`;
  return new UpgradeError("E_MIGRATION_FAILED", `migration ${migration.tag} failed at ${at}: ${message}; ${before}`, {
    hint:
      ranBefore.length === 0
        ? `nothing of ${migration.tag} was applied; fix ${migration.tag}.sql, or the data it trips on, and run again`
        : `the database is half-migrated and ${migration.tag} is not recorded: restore the backup taken before the migration (upgrade-machine's rollback does), then fix ${migration.tag}.sql`,
    details: {
      tag: migration.tag,
      statementIndex: failed,
      statement: failed >= 0 ? (statements[failed] ?? "").slice(0, 200) : "(bookkeeping)",
      ranBefore,
      ...((err as { code?: string }).code !== undefined ? { mysqlCode: (err as { code?: string }).code } : {}),
    },
    cause: err,
  });
}
