// The PostgreSQL and MariaDB/MySQL servers the server tests run against, and scratch databases
// on them. Each test creates databases with a random suffix and drops them, so test files can
// run in parallel. URLs come from UM_TEST_POSTGRES_URL / UM_TEST_MYSQL_URL (an admin user on the
// maintenance database), defaulting to the local servers of DEVELOPERS.md.
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import postgres from "postgres";
import { parseDatabaseUrl, type DatabaseTarget } from "../../src/url.js";

/** A server dialect. */
export type ServerDialect = "postgres" | "mysql";

/** Admin URLs of the test servers. */
export const ADMIN_URL: Record<ServerDialect, string> = {
  postgres: process.env.UM_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  mysql: process.env.UM_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/mysql",
};

type ServerTarget = Exclude<DatabaseTarget, { dialect: "sqlite" }>;

/** The parsed admin target of a dialect. */
export function adminTarget(dialect: ServerDialect): ServerTarget {
  return parseDatabaseUrl(ADMIN_URL[dialect], "/") as ServerTarget;
}

/** The admin URL with another database name (same credentials). */
export function urlFor(dialect: ServerDialect, database: string): string {
  const url = new URL(ADMIN_URL[dialect]);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** A random, valid, lower-case database name. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

/** Runs SQL statements (one per array item) on `url`, on a connection opened and closed for the call. */
export async function execSql(dialect: ServerDialect, url: string, statements: string[]): Promise<void> {
  await querySql(dialect, url, statements);
}

/** Like `execSql`, returning the rows of the last statement. */
export async function querySql<T = Record<string, unknown>>(dialect: ServerDialect, url: string, statements: string[]): Promise<T[]> {
  const t = parseDatabaseUrl(url, "/") as ServerTarget;
  let last: unknown[] = [];
  if (dialect === "postgres") {
    const ssl = t.params.sslmode !== undefined && t.params.sslmode !== "disable" ? ("require" as const) : false;
    const sql = postgres({
      host: t.host,
      port: t.port,
      user: t.user,
      password: t.password ?? "",
      database: t.database,
      max: 1,
      onnotice: () => undefined,
      connect_timeout: 5,
      ssl,
    });
    try {
      for (const s of statements) last = [...(await sql.unsafe(s))];
    } finally {
      await sql.end({ timeout: 1 });
    }
  } else {
    const conn = await mysql.createConnection({
      host: t.host,
      port: t.port,
      user: t.user,
      password: t.password,
      database: t.database,
      connectTimeout: 5000,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    try {
      for (const s of statements) {
        const [rows] = await conn.query(s);
        last = Array.isArray(rows) ? rows : [];
      }
    } finally {
      await conn.end();
    }
  }
  return last as T[];
}

const reachable = new Map<ServerDialect, Promise<boolean>>();

/**
 * Whether the test server of `dialect` answers. When it does not and CI is unset, the server
 * tests are skipped with a loud warning; when CI is set, this returns true anyway so that the
 * tests run and fail: CI must never pass by skipping.
 */
export function serverAvailable(dialect: ServerDialect): Promise<boolean> {
  let found = reachable.get(dialect);
  if (!found) {
    found = querySql(dialect, ADMIN_URL[dialect], ["SELECT 1 AS ok"]).then(
      () => true,
      (err: unknown) => {
        if (process.env.CI) return true;
        const line = "!".repeat(78);
        console.warn(
          `\n${line}\n!! SKIPPING ${dialect} TESTS: no server at ${ADMIN_URL[dialect].replace(/:[^:@/]*@/, ":***@")} (${(err as Error).message})\n` +
            `!! start it (see DEVELOPERS.md) or set UM_TEST_${dialect.toUpperCase()}_URL; with CI set these tests fail instead\n${line}\n`,
        );
        return false;
      },
    );
    reachable.set(dialect, found);
  }
  return found;
}

/** A database created for one test. */
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database with a random name on the test server (or on the server of
 * `adminUrl`, e.g. another PostgreSQL major); `options` are appended to CREATE DATABASE.
 */
export async function createScratchDatabase(
  dialect: ServerDialect,
  prefix = "um_test",
  adminUrl = ADMIN_URL[dialect],
  options = "",
): Promise<ScratchDatabase> {
  const name = randomName(prefix);
  await execSql(dialect, adminUrl, [
    dialect === "postgres" ? `CREATE DATABASE "${name}" ${options}` : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`,
  ]);
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), drop: () => dropDatabases(dialect, [name], adminUrl) };
}

/** Drops databases (and, on PostgreSQL, the scratch copies the adapter derives from them). */
export async function dropDatabases(dialect: ServerDialect, names: string[], adminUrl = ADMIN_URL[dialect]): Promise<void> {
  if (dialect === "mysql") {
    await execSql(
      dialect,
      adminUrl,
      names.map((n) => `DROP DATABASE IF EXISTS \`${n}\``),
    );
    return;
  }
  const like = names.map((n) => `datname = '${n}' OR datname LIKE '${n}\\_\\_um\\_%'`).join(" OR ");
  const all = await querySql<{ datname: string }>(dialect, adminUrl, [`SELECT datname FROM pg_database WHERE ${like}`]);
  await execSql(
    dialect,
    adminUrl,
    all.map((r) => `DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`),
  );
}
