import { constants } from "node:fs";
import { access, open } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { UpgradeError } from "../../errors.js";
import { runCommand } from "../../process/command.js";
import type { DatabaseTarget } from "../../url.js";

type ServerTarget = Extract<DatabaseTarget, { dialect: "postgres" | "mysql" }>;
const QUERY = "SELECT version_num FROM alembic_version";

function unreadable(err: unknown): UpgradeError {
  return new UpgradeError("E_CONNECT", `cannot read alembic_version: ${(err as Error).message}`, {
    hint: "check that jupyterhub.dbUrl names JupyterHub's database and that it is reachable",
    cause: err,
  });
}

async function sqliteRevision(path: string): Promise<string | null> {
  const { openSqlite } = await import("../../adapters/sqlite/connection.js");
  const db = await openSqlite(path, { readonly: true });
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").get();
    if (!exists) return null;
    const row = db.prepare(QUERY).get() as { version_num?: unknown } | undefined;
    return typeof row?.version_num === "string" ? row.version_num : null;
  } finally {
    db.close();
  }
}

async function postgresRevision(t: ServerTarget): Promise<string | null> {
  const mod = (await import("postgres")) as unknown as { default: (options: Record<string, unknown>) => PgClient };
  const sql = mod.default({
    host: t.host,
    port: t.port,
    database: t.database,
    ...(t.user !== undefined ? { user: t.user } : {}),
    password: t.password ?? "",
    ...(t.socket !== undefined ? { path: `${t.socket.replace(/\/$/, "")}/.s.PGSQL.${t.port}` } : {}),
    ssl: t.params.sslmode === undefined || t.params.sslmode === "disable" ? false : t.params.sslmode === "verify-ca" ? "verify-full" : t.params.sslmode,
    max: 1,
    connect_timeout: 10,
    onnotice: () => undefined,
  });
  try {
    const rows = await sql.unsafe("SELECT to_regclass('alembic_version') IS NOT NULL AS present");
    if (!rows[0]?.present) return null;
    const [row] = await sql.unsafe(QUERY);
    return typeof row?.version_num === "string" ? row.version_num : null;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
interface PgClient {
  unsafe(query: string): Promise<Record<string, unknown>[]>;
  end(options: { timeout: number }): Promise<void>;
}

async function mysqlRevision(t: ServerTarget): Promise<string | null> {
  const mysql = (await import("mysql2/promise")) as unknown as {
    createConnection(options: Record<string, unknown>): Promise<{ query(sql: string): Promise<[unknown, unknown]>; end(): Promise<void> }>;
  };
  const conn = await mysql.createConnection({
    host: t.host,
    port: t.port,
    database: t.database,
    ...(t.user !== undefined ? { user: t.user } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    ...(t.socket !== undefined ? { socketPath: t.socket } : {}),
  });
  try {
    const [tables] = (await conn.query("SHOW TABLES LIKE 'alembic_version'")) as [unknown[], unknown];
    if (tables.length === 0) return null;
    const [rows] = (await conn.query(QUERY)) as [{ version_num?: unknown }[], unknown];
    return typeof rows[0]?.version_num === "string" ? rows[0].version_num : null;
  } finally {
    await conn.end();
  }
}

/**
 * The alembic revision JupyterHub's database is at (`alembic_version.version_num`), or null
 * when the table does not exist. Read-only; the driver is loaded only for its dialect.
 */
export async function readAlembicRevision(target: DatabaseTarget): Promise<string | null> {
  try {
    if (target.dialect === "sqlite") return await sqliteRevision(target.path);
    if (target.dialect === "postgres") return await postgresRevision(target);
    return await mysqlRevision(target);
  } catch (err) {
    if (err instanceof UpgradeError) throw err;
    throw unreadable(err);
  }
}

async function findProgram(program: string, path: string): Promise<string | null> {
  const candidates = program.includes("/") ? [program] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const file of candidates) {
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return null;
}

/** The interpreter of a Python script's `#!` line (`#!/usr/bin/env python3` too), or null. */
export async function interpreterOf(program: string, path = process.env.PATH ?? ""): Promise<string[] | null> {
  const file = await findProgram(program, path);
  if (!file) return null;
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0);
    const first = buffer.subarray(0, bytesRead).toString("utf8").split("\n")[0] ?? "";
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!m?.[1] || !/python/.test(first)) return null;
    return m[2] !== undefined ? [m[1], m[2]] : [m[1]];
  } finally {
    await handle.close();
  }
}

const HEAD_SCRIPT = [
  "import os, jupyterhub",
  "from alembic.script import ScriptDirectory",
  "print(ScriptDirectory(os.path.join(os.path.dirname(jupyterhub.__file__), 'alembic')).get_current_head())",
].join("\n");

/**
 * The alembic head the installed JupyterHub expects, read by its own Python from its own
 * migration scripts; null with the reason when that cannot be done (then the Hub's own check
 * at start is the proof).
 */
export async function installedHead(python: string[], cwd: string, env: Record<string, string>): Promise<{ head: string | null; why?: string }> {
  const [program, ...args] = python;
  if (!program) return { head: null, why: "no Python interpreter" };
  const result = await runCommand({ argv: [program, ...args, "-c", HEAD_SCRIPT], cwd, env, timeoutMs: 60_000 }).catch((err: Error) => err);
  if (result instanceof Error) return { head: null, why: result.message };
  const line = result.stdout.trim().split("\n").at(-1)?.trim() ?? "";
  if (result.exitCode !== 0 || !/^[0-9a-f]{6,40}$/.test(line)) {
    return { head: null, why: `${python.join(" ")} exited with ${result.exitCode}: ${(result.stderr.trim().split("\n").at(-1) ?? "").slice(0, 300)}` };
  }
  return { head: line };
}
