import { existsSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import { UpgradeError } from "../../errors.js";

/** A better-sqlite3 connection. */
export type SqliteDb = BetterSqlite3.Database;

type DatabaseConstructor = typeof BetterSqlite3;
let driver: Promise<DatabaseConstructor> | undefined;

/**
 * Loads better-sqlite3 on first use, so importing upgrade-machine never loads the native driver
 * unless a SQLite database is actually opened.
 *
 * @throws UpgradeError E_TOOL_MISSING when better-sqlite3 is not installed or does not load.
 */
export function loadBetterSqlite3(): Promise<DatabaseConstructor> {
  driver ??= import("better-sqlite3").then(
    (mod) => (mod as { default?: DatabaseConstructor }).default ?? (mod as unknown as DatabaseConstructor),
    (err: unknown) => {
      driver = undefined;
      throw new UpgradeError("E_TOOL_MISSING", "better-sqlite3 could not be loaded", {
        hint: "install it (`npm install better-sqlite3@12`) and check that its native build matches this Node version",
        cause: err,
      });
    },
  );
  return driver;
}

/** Options of `openSqlite`. */
export interface OpenOptions {
  readonly?: boolean;
  /** Create the file when it is missing; default false (a wrong path must never create a database). */
  create?: boolean;
  /** SQLite busy timeout in milliseconds; default 5000. */
  busyTimeoutMs?: number;
}

/**
 * Opens a SQLite file with better-sqlite3.
 *
 * @throws UpgradeError E_NOT_FOUND when the file is missing and `create` is not set; E_CONNECT
 * when it cannot be opened or is not a SQLite database.
 */
export async function openSqlite(path: string, options: OpenOptions = {}): Promise<SqliteDb> {
  if (!options.create && !existsSync(path)) {
    throw new UpgradeError("E_NOT_FOUND", `SQLite database ${path} does not exist`, {
      hint: "check the path (a relative path is resolved from the working directory); upgrade-machine never creates a missing database",
      details: { path },
    });
  }
  const Database = await loadBetterSqlite3();
  let db: SqliteDb;
  try {
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: !options.create,
      timeout: options.busyTimeoutMs ?? 5000,
    });
  } catch (err) {
    throw new UpgradeError("E_CONNECT", `cannot open SQLite database ${path}: ${(err as Error).message}`, {
      hint: "check the file's permissions and that its directory is writable (SQLite needs it for -wal/-journal files)",
      details: { path },
      cause: err,
    });
  }
  try {
    // Reading the schema proves the file is a database (a text file opens fine until first read).
    db.pragma("schema_version", { simple: true });
  } catch (err) {
    db.close();
    throw new UpgradeError("E_CONNECT", `${path} is not a usable SQLite database: ${(err as Error).message}`, {
      hint: "check that the path names the service's database file",
      details: { path },
      cause: err,
    });
  }
  return db;
}

/** Double-quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
