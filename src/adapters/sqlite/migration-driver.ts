import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { ApplyOptions, AppliedMigration, MigrationDriver, MigrationFile } from "../../migrations/types.js";
import type { SqliteDb } from "./connection.js";
import { lockSqliteMigrations } from "./lock.js";

/** drizzle-orm's SQLite bookkeeping DDL, whitespace included, so `sqlite_master` is identical. */
export const DRIZZLE_MIGRATIONS_DDL = `
			CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (
				id SERIAL PRIMARY KEY,
				hash text NOT NULL,
				created_at numeric
			)
		`;

/** Strips SQL comments, for recognising statements only (never for running them). */
function bare(statement: string): string {
  return statement
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/--[^\n]*/g, " ")
    .trim();
}

const FK_PRAGMA = /^pragma\s+(?:[`"[]?main[`"\]]?\.)?[`"[]?foreign_keys[`"\]]?\s*(?:=\s*[^;]+|\([^)]*\))\s*;?$/i;
const MENTIONS_FK_PRAGMA = /\bpragma\s+(?:[`"[]?main[`"\]]?\.)?[`"[]?foreign_keys\b/i;
/** drizzle-kit's rebuild rename: `ALTER TABLE __new_t RENAME TO t`. */
const REBUILD_RENAME = /^alter\s+table\s+(?:[`"[]?main[`"\]]?\.)?[`"[]?__new_[^\s`"\]]*[`"\]]?\s+rename\s+to\s/i;

interface FkViolation {
  table: string;
  rowid: number | bigint | null;
  parent: string;
  fkid: number;
}

/** Options of `createSqliteMigrationDriver`. */
export interface SqliteMigrationDriverOptions {
  /** Absolute path of the database file (the lock file lives beside it). */
  path: string;
  /** The adapter's connection, opened on demand. */
  connection: () => Promise<SqliteDb>;
}

/**
 * The SQLite side of the drizzle-kit migration runner, keeping drizzle's own bookkeeping table
 * (`__drizzle_migrations`, rows `(hash, created_at)`), so `drizzle-kit migrate` and
 * `runMigrations` agree about what is applied. Each migration runs in its own `BEGIN IMMEDIATE`
 * transaction with its bookkeeping row. A migration containing `PRAGMA foreign_keys` statements
 * (drizzle-kit's table rebuild) runs with foreign keys switched off OUTSIDE the transaction
 * (inside one SQLite ignores the pragma, and `DROP TABLE` would cascade into child tables),
 * `PRAGMA foreign_key_check` before `COMMIT`, and foreign keys restored afterwards. The rebuild's
 * `ALTER TABLE __new_t RENAME TO t` runs with `legacy_alter_table=ON`, so views and triggers
 * that name `t` do not make the rename fail.
 */
export function createSqliteMigrationDriver(options: SqliteMigrationDriverOptions): MigrationDriver {
  const tableExists = (db: SqliteDb): boolean =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'`).get() !== undefined;

  return {
    capabilities: { transactionalDdl: true },

    lock: (timeoutMs: number) => lockSqliteMigrations(options.path, timeoutMs),

    async ensureBookkeeping(): Promise<void> {
      (await options.connection()).exec(DRIZZLE_MIGRATIONS_DDL);
    },

    /** The bookkeeping rows, oldest first; [] when the table does not exist yet. */
    async applied(): Promise<AppliedMigration[]> {
      const db = await options.connection();
      if (!tableExists(db)) return [];
      const rows = db.prepare(`SELECT hash, created_at FROM "__drizzle_migrations" ORDER BY created_at, rowid`).all() as {
        hash: string;
        created_at: unknown;
      }[];
      return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }));
    },

    async apply(migration: MigrationFile, applyOptions: ApplyOptions = {}): Promise<void> {
      const db = await options.connection();
      const statements = migration.statements;
      const fkPragmas = statements.some((s) => MENTIONS_FK_PRAGMA.test(bare(s)));
      const fkBefore = Number(db.pragma("foreign_keys", { simple: true })) === 1;
      const legacyBefore = Number(db.pragma("legacy_alter_table", { simple: true })) === 1;
      if (fkPragmas) db.pragma("foreign_keys = OFF");
      let index = -1;
      try {
        try {
          db.exec("BEGIN IMMEDIATE");
        } catch (err) {
          throw new UpgradeError("E_BUSY", `cannot start migration ${migration.tag}: the database is busy (${(err as Error).message})`, {
            hint: "another process is writing to the database: stop the service before migrating",
            details: { tag: migration.tag },
            cause: err,
          });
        }
        try {
          for (index = 0; index < statements.length; index++) {
            const statement = statements[index]!;
            applyOptions.onStatement?.(index, statements.length);
            const plain = bare(statement);
            if (FK_PRAGMA.test(plain)) continue; // handled outside the transaction
            const rename = REBUILD_RENAME.test(plain);
            if (rename) db.pragma("legacy_alter_table = ON");
            try {
              db.exec(statement);
            } finally {
              if (rename) db.pragma(`legacy_alter_table = ${legacyBefore ? "ON" : "OFF"}`);
            }
          }
          index = -1;
          db.exec(DRIZZLE_MIGRATIONS_DDL);
          db.prepare(`INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)`).run(migration.hash, migration.when);
          if (fkPragmas) {
            const violations = db.pragma("foreign_key_check") as FkViolation[];
            if (violations.length > 0) throw foreignKeyError(migration.tag, violations);
          }
          db.exec("COMMIT");
        } catch (err) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw err;
        }
      } catch (err) {
        if (isUpgradeError(err)) throw err;
        const statement = index >= 0 ? (statements[index] ?? "") : "(bookkeeping)";
        throw new UpgradeError(
          "E_MIGRATION_FAILED",
          `migration ${migration.tag} failed${index >= 0 ? ` at statement ${index + 1} of ${statements.length}` : ""}: ${(err as Error).message}`,
          {
            hint: `nothing of ${migration.tag} was applied (rolled back); fix ${migration.tag}.sql, or the data it trips on, and run again`,
            details: { tag: migration.tag, statementIndex: index, statement: statement.slice(0, 200) },
            cause: err,
          },
        );
      } finally {
        if (fkPragmas) db.pragma(`foreign_keys = ${fkBefore ? "ON" : "OFF"}`);
      }
    },
  };
}

function foreignKeyError(tag: string, violations: FkViolation[]): UpgradeError {
  const shown = violations
    .slice(0, 20)
    .map((v) => ({ table: v.table, rowid: v.rowid === null ? null : String(v.rowid), parent: v.parent }));
  const list = shown.map((v) => `${v.table} rowid ${v.rowid ?? "?"} -> ${v.parent}`).join(", ");
  return new UpgradeError(
    "E_FOREIGN_KEY",
    `migration ${tag} would leave ${violations.length} foreign key violation(s): ${list}${violations.length > shown.length ? ", ..." : ""}`,
    {
      hint: `nothing of ${tag} was applied (rolled back); the migration must keep every referenced row (fix the data or the migration)`,
      details: { tag, count: violations.length, violations: shown },
    },
  );
}
