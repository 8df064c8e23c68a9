// The three dialects (and PostgreSQL's template strategy) as targets of the contract suites:
// each creates a fresh database with a random name, an adapter on it, and dialect-specific
// helpers the suites need to look inside (SQL, columns, drizzle's bookkeeping, drizzle's own
// migrator). Everything else in the suites is dialect-free.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import { migrate as migrateSqlite } from "drizzle-orm/better-sqlite3/migrator";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { migrate as migrateMysql } from "drizzle-orm/mysql2/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/postgres-js";
import { migrate as migratePg } from "drizzle-orm/postgres-js/migrator";
import mysql from "mysql2/promise";
import postgres from "postgres";
import { createMysqlAdapter } from "../../src/adapters/mysql/index.js";
import { createPostgresAdapter, type PostgresAdapterOptions } from "../../src/adapters/postgres/index.js";
import { createSqliteAdapter } from "../../src/adapters/sqlite/index.js";
import type { DatabaseAdapter } from "../../src/adapters/types.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { pgMajors, type PgMajor } from "../helpers/pg-majors.js";
import { createScratchDatabase, querySql, serverAvailable, type ServerDialect } from "../helpers/servers.js";

/** The drizzle-kit fixture folder of the "shop" schema for a dialect. */
export function shopMigrations(dialect: "sqlite" | "pg" | "mysql"): string {
  return fileURLToPath(new URL(`../fixtures/migrations/${dialect}`, import.meta.url));
}

/** One database of a contract test. */
export interface ContractDb {
  adapter: DatabaseAdapter;
  /** A URL that `parseDatabaseUrl` / `openAdapter` accept, for child processes. */
  url: string;
  /** Runs statements, one per item, on a connection of their own. */
  exec(statements: string[]): Promise<void>;
  /** Rows of one query (values as the driver returns them: compare with Number()/String()). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Column names of a table, in order. */
  columns(table: string): Promise<string[]>;
  /** drizzle's bookkeeping rows, oldest first. */
  bookkeeping(): Promise<{ hash: string; created_at: number }[]>;
  /** drizzle-orm's own `migrate()` on this database. */
  drizzleMigrate(dir: string): Promise<void>;
  /** Closes the adapter and drops the database. */
  drop(): Promise<void>;
}

/** A dialect under test. */
export interface ContractTarget {
  name: string;
  dialect: "sqlite" | "postgres" | "mysql";
  available: boolean;
  migrations: string;
  /** The `format` the target's backups have. */
  format: string;
  create(): Promise<ContractDb>;
}

function sqliteTarget(): ContractTarget {
  return {
    name: "sqlite",
    dialect: "sqlite",
    available: true,
    migrations: shopMigrations("sqlite"),
    format: "sqlite-file-copy", // the adapter's backup of a database nobody writes: a byte copy under the read lock
    async create() {
      const dir = mkdtempSync(join(tmpdir(), "um-contract-"));
      const path = join(dir, "db.sqlite");
      const adapter = createSqliteAdapter({ path, create: true });
      const withDb = <T>(fn: (db: Database.Database) => T): T => {
        const db = new Database(path);
        try {
          return fn(db);
        } finally {
          db.close();
        }
      };
      return {
        adapter,
        url: `sqlite:${path}`,
        exec: async (statements) =>
          withDb((db) => {
            for (const s of statements) db.exec(s);
          }),
        query: async <T>(sql: string) => withDb((db) => db.prepare(sql).all() as T[]),
        columns: async (table) => withDb((db) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name)),
        bookkeeping: async () =>
          withDb(
            (db) =>
              db.prepare(`SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at`).all() as {
                hash: string;
                created_at: number;
              }[],
          ),
        drizzleMigrate: async (out) => withDb((db) => migrateSqlite(drizzleSqlite(db), { migrationsFolder: out })),
        async drop() {
          await adapter.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

function serverDb(dialect: ServerDialect, name: string, url: string, adapter: DatabaseAdapter, drop: () => Promise<void>): ContractDb {
  const pg = dialect === "postgres";
  const t = parseDatabaseUrl(url, "/") as { host: string; port: number; user?: string; password?: string; database: string };
  return {
    adapter,
    url,
    exec: (statements) => querySql(dialect, url, statements).then(() => undefined),
    query: <T>(sql: string) => querySql<T>(dialect, url, [sql]),
    async columns(table) {
      const rows = await querySql<{ c: string }>(dialect, url, [
        pg
          ? `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '${table}' ORDER BY ordinal_position`
          : `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${name}' AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`,
      ]);
      return rows.map((r) => r.c);
    },
    async bookkeeping() {
      const rows = await querySql<{ hash: string; created_at: string }>(dialect, url, [
        `SELECT hash, created_at FROM ${pg ? "drizzle.__drizzle_migrations" : "__drizzle_migrations"} ORDER BY created_at`,
      ]);
      return rows.map((r) => ({ hash: r.hash, created_at: Number(r.created_at) }));
    },
    async drizzleMigrate(out) {
      if (pg) {
        const sql = postgres({
          host: t.host,
          port: t.port,
          user: t.user,
          password: t.password ?? "",
          database: t.database,
          max: 1,
          onnotice: () => undefined,
        });
        try {
          await migratePg(drizzlePg(sql), { migrationsFolder: out });
        } finally {
          await sql.end({ timeout: 1 });
        }
      } else {
        const conn = await mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database });
        try {
          await migrateMysql(drizzleMysql(conn), { migrationsFolder: out });
        } finally {
          await conn.end();
        }
      }
    },
    async drop() {
      await adapter.close();
      await drop();
    },
  };
}

function postgresTarget(available: boolean, options: PostgresAdapterOptions = {}, server?: PgMajor): ContractTarget {
  const template = options.backupStrategy === "template";
  const kind = template ? "template restore points" : "pg_dump";
  return {
    name: server ? `postgres ${server.major} (${kind})` : template ? "postgres (template restore points)" : "postgres",
    dialect: "postgres",
    available,
    migrations: shopMigrations("pg"),
    format: template ? "pg-template-database" : "pg_dump-custom",
    async create() {
      const db = await createScratchDatabase("postgres", "um_test", server?.adminUrl);
      const adapter = createPostgresAdapter(parseDatabaseUrl(db.url, "/") as never, options);
      return serverDb("postgres", db.name, db.url, adapter, db.drop);
    },
  };
}

/**
 * The other PostgreSQL majors (14, 16, 17, 18): template restore points on each, pg_dump ones
 * where this machine has a pg_dump that can serve the server (Debian's 15 serves 14).
 */
export async function pgMajorTargets(): Promise<ContractTarget[]> {
  const out: ContractTarget[] = [];
  for (const m of (await pgMajors()).filter((m) => m.major !== 15)) {
    if (m.dumpTools) out.push(postgresTarget(m.available, {}, m));
    out.push(postgresTarget(m.available, { backupStrategy: "template" }, m));
  }
  return out;
}

function mysqlTarget(available: boolean): ContractTarget {
  return {
    name: "mysql",
    dialect: "mysql",
    available,
    migrations: shopMigrations("mysql"),
    format: "mysqldump-sql",
    async create() {
      const db = await createScratchDatabase("mysql");
      const adapter = createMysqlAdapter(parseDatabaseUrl(db.url, "/") as never);
      return serverDb("mysql", db.name, db.url, adapter, db.drop);
    },
  };
}

/**
 * Every contract target (PostgreSQL on each major of the matrix); server targets are marked
 * unavailable (skipped, loudly) when their server is down and CI is unset.
 */
export async function contractTargets(): Promise<ContractTarget[]> {
  const [pg, my] = await Promise.all([serverAvailable("postgres"), serverAvailable("mysql")]);
  return [
    sqliteTarget(),
    postgresTarget(pg),
    postgresTarget(pg, { backupStrategy: "template" }),
    mysqlTarget(my),
    ...(await pgMajorTargets()),
  ];
}
