import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { ApplyOptions, AppliedMigration, MigrationDriver, MigrationFile } from "../../migrations/types.js";
import { describeTarget, redactSecrets } from "../../url.js";
import { pgError, quoteIdent, type PgSql, type PostgresTarget } from "./connection.js";

/** Options of `createPostgresMigrationDriver`. */
export interface PgMigrationDriverOptions {
  /** The target, for messages (the password redacted). */
  target: PostgresTarget;
  /** The adapter's pool, opened on demand; it must allow two connections (the lock holds one). */
  connection: () => Promise<PgSql>;
  /** drizzle's `migrationsSchema`; default `drizzle`. */
  schema?: string;
  /** drizzle's `migrationsTable`; default `__drizzle_migrations`. */
  table?: string;
}

/** Two int4 keys of `pg_advisory_lock(int, int)`, derived from a name. */
function lockKeys(name: string): [number, number] {
  const digest = createHash("sha256").update(name).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/**
 * The PostgreSQL side of the drizzle-kit migration runner. Bookkeeping is drizzle's own
 * (`"drizzle"."__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at
 * bigint)`), so `drizzle-kit migrate` and `runMigrations` agree about what is applied. The lock
 * is a session advisory lock (`pg_try_advisory_lock`, polled every 100 ms up to the timeout) on
 * a connection of its own: a process that dies releases it with its connection. Each migration
 * runs in one transaction with its bookkeeping row (PostgreSQL has transactional DDL).
 */
export function createPostgresMigrationDriver(options: PgMigrationDriverOptions): MigrationDriver {
  const schema = options.schema ?? "drizzle";
  const table = options.table ?? "__drizzle_migrations";
  const qualified = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const where = describeTarget(options.target);
  const [k1, k2] = lockKeys(`upgrade-machine:migrate:${schema}.${table}`);

  return {
    capabilities: { transactionalDdl: true },

    async lock(timeoutMs: number) {
      const sql = await options.connection();
      const conn = await sql.reserve().catch((err: unknown) => {
        throw pgError(err, options.target, "taking the migration lock");
      });
      const deadline = Date.now() + Math.max(0, timeoutMs);
      try {
        for (;;) {
          const [row] = await conn<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${k1}::int, ${k2}::int) AS ok`;
          if (row?.ok) break;
          if (Date.now() >= deadline) {
            throw new UpgradeError(
              "E_LOCKED",
              `another process is migrating ${where} (it holds the advisory lock); waited ${timeoutMs} ms`,
              {
                hint: "wait for the other migration to finish and run again; the lock is released as soon as that process's connection ends",
                details: { target: where, timeoutMs, lock: [k1, k2] },
              },
            );
          }
          await sleep(Math.min(100, Math.max(1, deadline - Date.now())));
        }
      } catch (err) {
        conn.release();
        throw pgError(err, options.target, "taking the migration lock");
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        try {
          await conn`SELECT pg_advisory_unlock(${k1}::int, ${k2}::int)`;
        } finally {
          conn.release();
        }
      };
    },

    async ensureBookkeeping() {
      const sql = await options.connection();
      try {
        await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await sql.unsafe(`
			CREATE TABLE IF NOT EXISTS ${qualified} (
				id SERIAL PRIMARY KEY,
				hash text NOT NULL,
				created_at bigint
			)
		`);
      } catch (err) {
        throw pgError(err, options.target, "creating drizzle's bookkeeping table", "E_MIGRATION_FAILED");
      }
    },

    async applied(): Promise<AppliedMigration[]> {
      const sql = await options.connection();
      try {
        const [exists] = await sql<{ t: string | null }[]>`SELECT to_regclass(${qualified})::text AS t`;
        if (!exists?.t) return [];
        const rows = await sql.unsafe<{ hash: string; created_at: string | null }[]>(
          `SELECT hash, created_at FROM ${qualified} ORDER BY created_at, id`,
        );
        return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }));
      } catch (err) {
        throw pgError(err, options.target, "reading drizzle's bookkeeping table");
      }
    },

    async apply(migration: MigrationFile, applyOptions: ApplyOptions = {}) {
      const sql = await options.connection();
      const statements = migration.statements;
      let index = -1;
      try {
        await sql.begin(async (tx) => {
          for (index = 0; index < statements.length; index++) {
            applyOptions.onStatement?.(index, statements.length);
            await tx.unsafe(statements[index]!);
          }
          index = -1;
          await tx.unsafe(`INSERT INTO ${qualified} ("hash", "created_at") VALUES ($1, $2)`, [migration.hash, migration.when]);
        });
      } catch (err) {
        if (isUpgradeError(err)) throw err;
        const code = (err as { code?: string }).code;
        if (code !== undefined && /^(08|28|3D|57P)/.test(code)) throw pgError(err, options.target, `migration ${migration.tag}`);
        const statement = index >= 0 ? (statements[index] ?? "") : "(bookkeeping)";
        const message = redactSecrets((err as Error).message, [options.target.password ?? ""]);
        throw new UpgradeError(
          "E_MIGRATION_FAILED",
          `migration ${migration.tag} failed${index >= 0 ? ` at statement ${index + 1} of ${statements.length}` : ""}: ${message}`,
          {
            hint: `nothing of ${migration.tag} was applied (its transaction rolled back); fix ${migration.tag}.sql, or the data it trips on, and run again`,
            details: {
              tag: migration.tag,
              statementIndex: index,
              statement: statement.slice(0, 200),
              ...(code !== undefined ? { sqlstate: code } : {}),
            },
            cause: err,
          },
        );
      }
    },
  };
}
