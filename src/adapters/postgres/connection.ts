import { readFile } from "node:fs/promises";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type postgres from "postgres";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import { describeTarget, redactSecrets, type DatabaseTarget } from "../../url.js";

/** A PostgreSQL server database, as parsed from a `postgres://` URL. */
export type PostgresTarget = Exclude<DatabaseTarget, { dialect: "sqlite" }> & { dialect: "postgres" };
/** A postgres.js client (a small pool). */
export type PgSql = postgres.Sql;

type PostgresFactory = typeof postgres;
let driver: Promise<PostgresFactory> | undefined;

/**
 * Loads postgres.js on first use, so importing upgrade-machine never loads it unless a
 * PostgreSQL database is opened.
 *
 * @throws UpgradeError E_TOOL_MISSING when the `postgres` package is not installed.
 */
export function loadPostgres(): Promise<PostgresFactory> {
  driver ??= import("postgres").then(
    (mod) => (mod as { default?: PostgresFactory }).default ?? (mod as unknown as PostgresFactory),
    (err: unknown) => {
      driver = undefined;
      throw new UpgradeError("E_TOOL_MISSING", "the PostgreSQL driver (postgres.js) could not be loaded", {
        hint: "install it next to upgrade-machine: npm install postgres@3",
        cause: err,
      });
    },
  );
  return driver;
}

/**
 * Session settings that make text output canonical (the fingerprint hashes text): UTC times,
 * ISO dates, exact floats, hex bytea.
 */
const SESSION = {
  application_name: "upgrade-machine",
  TimeZone: "UTC",
  DateStyle: "ISO, YMD",
  IntervalStyle: "postgres",
  extra_float_digits: "3",
  bytea_output: "hex",
  client_min_messages: "warning",
};

/** Reads a certificate or key file named by a URL parameter; E_URL when it cannot be read. */
async function sslFile(params: Record<string, string>, key: string): Promise<Buffer | undefined> {
  const path = params[key];
  if (path === undefined || path === "" || path === "system") return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new UpgradeError("E_URL", `cannot read ${key}=${path}: ${(err as Error).message}`, {
      hint: `point ${key} at a readable PEM file (a relative path is relative to the config file)`,
      cause: err,
    });
  }
}

/**
 * libpq's `sslmode` (and `sslrootcert`, `sslcert`, `sslkey`) as postgres.js TLS options:
 * `disable` plain; `allow`/`prefer` TLS when the server offers it; `require` TLS without
 * verification, unless `sslrootcert` is given (then the chain is verified, as libpq does);
 * `verify-ca` the chain against `sslrootcert` (or the system's CAs); `verify-full` the chain and
 * `host` (the URL's) as the certificate's name. Without `sslmode` the driver does not use TLS
 * (postgres.js's default).
 */
export async function sslOptions(params: Record<string, string>, host: string): Promise<postgres.Options<Record<string, never>>["ssl"]> {
  const mode = params.sslmode ?? (params.sslrootcert === "system" ? "verify-full" : undefined);
  if (mode === undefined || mode === "disable") return false;
  if (!["allow", "prefer", "require", "verify-ca", "verify-full"].includes(mode)) {
    throw new UpgradeError("E_URL", `unsupported sslmode=${mode}`, {
      hint: "use sslmode=disable, prefer, require, verify-ca or verify-full",
    });
  }
  const [ca, cert, key] = await Promise.all([sslFile(params, "sslrootcert"), sslFile(params, "sslcert"), sslFile(params, "sslkey")]);
  const client = { ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  if (mode === "allow" || mode === "prefer") return cert || key ? { rejectUnauthorized: false, ...client } : "prefer";
  if (mode === "require" && !ca) return cert || key ? { rejectUnauthorized: false, ...client } : "require";
  const verify = { rejectUnauthorized: true, ...(ca ? { ca } : {}), ...client };
  // verify-ca (and require with a root certificate): the chain, not the host name. verify-full
  // names the host itself: postgres.js gives TLS no server name for an IP address, and Node then
  // checks the certificate against "localhost".
  return {
    ...verify,
    checkServerIdentity:
      mode === "verify-full"
        ? (_name: string, cert: PeerCertificate) => checkServerIdentity(host.replace(/^\[(.*)\]$/, "$1"), cert)
        : () => undefined,
  };
}

/** The same server with another database (the maintenance database, a scratch copy). */
export function onDatabase(target: PostgresTarget, database: string): PostgresTarget {
  return { ...target, database };
}

/**
 * Opens a postgres.js pool on `target` (lazily: the first query connects). `held`: its
 * connections are never closed for idleness or age (postgres.js closes idle ones after 30 s here
 * and every connection after 30 to 60 minutes by default): for what lives only as long as its
 * session, such as a temporary replication slot.
 */
export async function openPg(target: PostgresTarget, max = 4, held = false): Promise<PgSql> {
  const factory = await loadPostgres();
  return factory({
    host: target.host,
    port: target.port,
    ...(target.socket !== undefined ? { path: `${target.socket.replace(/\/$/, "")}/.s.PGSQL.${target.port}` } : {}),
    database: target.database,
    ...(target.user !== undefined ? { user: target.user } : {}),
    password: target.password ?? "",
    ssl: await sslOptions(target.params, target.host),
    max,
    connect_timeout: Number(target.params.connect_timeout ?? 10),
    idle_timeout: held ? 0 : 30,
    ...(held ? { max_lifetime: 0 } : {}),
    onnotice: () => undefined,
    connection: SESSION,
  } as postgres.Options<Record<string, never>>);
}

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNRESET",
  "CONNECT_TIMEOUT",
  "ENOENT",
  "EAI_AGAIN",
  // postgres.js: the server or the network closed an open connection
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
]);

/**
 * Maps a postgres.js error to a coded UpgradeError (E_CONNECT, E_AUTH, E_NOT_FOUND, or
 * `fallback`), the password redacted from every message.
 */
export function pgError(
  err: unknown,
  target: PostgresTarget,
  what: string,
  fallback: "E_BACKUP" | "E_RESTORE" | "E_JOURNAL" | "E_CONNECT" | "E_MIGRATION_FAILED" | "E_VERIFY" | "E_REHEARSAL" = "E_CONNECT",
): UpgradeError {
  if (isUpgradeError(err)) return err;
  const e = err as { code?: string; message?: string };
  const where = describeTarget(target);
  const message = redactSecrets(String(e.message ?? err), [target.password ?? ""]);
  if (e.code !== undefined && CONNECT_CODES.has(e.code)) {
    return new UpgradeError("E_CONNECT", `cannot connect to PostgreSQL at ${where} (${what}): ${message}`, {
      hint: `check that PostgreSQL is running and reachable at ${target.socket ?? `${target.host}:${target.port}`}, and the host and port in the URL`,
      details: { target: where, code: e.code },
      cause: err,
    });
  }
  if (e.code === "28P01" || e.code === "28000") {
    return new UpgradeError("E_AUTH", `PostgreSQL refused the login to ${where}: ${message}`, {
      hint: "check the user and password in the URL (percent-encode special characters) and the server's pg_hba.conf",
      details: { target: where, code: e.code },
      cause: err,
    });
  }
  if (e.code === "3D000") {
    return new UpgradeError("E_NOT_FOUND", `the PostgreSQL database ${JSON.stringify(target.database)} does not exist at ${where}`, {
      hint: `check the database name in the URL; upgrade-machine never creates the database it upgrades (createdb ${target.database})`,
      details: { target: where, code: e.code },
      cause: err,
    });
  }
  const hint =
    e.code === "42501"
      ? `the user lacks a privilege: restoring and template restore points need CREATEDB and ownership of the database (ALTER ROLE ${target.user ?? "<user>"} CREATEDB)`
      : fallback === "E_JOURNAL"
        ? "check the journal database, then `upgrade-machine resume`"
        : "read the PostgreSQL error above; nothing was changed unless it says so";
  return new UpgradeError(fallback, `${what} on ${where} failed: ${message}`, {
    hint,
    details: { target: where, ...(e.code !== undefined ? { code: e.code } : {}) },
    cause: err,
  });
}

/** Double-quotes an identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Single-quotes a string literal (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The environment of pg_dump / pg_restore / psql: inherited minus PG*, plus the target (password included). */
export function pgToolEnv(target: PostgresTarget, database = target.database): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG")) env[k] = v;
  env.PGHOST = target.socket ?? target.host;
  env.PGPORT = String(target.port);
  env.PGDATABASE = database;
  env.PGAPPNAME = "upgrade-machine";
  env.PGCONNECT_TIMEOUT = target.params.connect_timeout ?? "10";
  if (target.user !== undefined) env.PGUSER = target.user;
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  const fromParams: Record<string, string> = {
    sslmode: "PGSSLMODE",
    sslrootcert: "PGSSLROOTCERT",
    sslcert: "PGSSLCERT",
    sslkey: "PGSSLKEY",
    sslcrl: "PGSSLCRL",
  };
  for (const [param, name] of Object.entries(fromParams)) {
    const value = target.params[param];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
