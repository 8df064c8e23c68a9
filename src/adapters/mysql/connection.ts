import type { Pool, PoolOptions } from "mysql2/promise";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import { describeTarget, redactSecrets, type DatabaseTarget } from "../../url.js";

/** A MySQL / MariaDB server database, as parsed from a `mysql://` or `mariadb://` URL. */
export type MysqlTarget = Exclude<DatabaseTarget, { dialect: "sqlite" }> & { dialect: "mysql" };
/** A mysql2 promise pool. */
export type MysqlPool = Pool;

type Mysql2 = typeof import("mysql2/promise");
let driver: Promise<Mysql2> | undefined;

/**
 * Loads mysql2 on first use, so importing upgrade-machine never loads it unless a MySQL
 * database is opened.
 *
 * @throws UpgradeError E_TOOL_MISSING when the `mysql2` package is not installed.
 */
export function loadMysql2(): Promise<Mysql2> {
  driver ??= import("mysql2/promise").then(
    (mod) => (mod as { default?: Mysql2 }).default ?? (mod as unknown as Mysql2),
    (err: unknown) => {
      driver = undefined;
      throw new UpgradeError("E_TOOL_MISSING", "the MySQL driver (mysql2) could not be loaded", {
        hint: "install it next to upgrade-machine: npm install mysql2@3",
        cause: err,
      });
    },
  );
  return driver;
}

/** TLS from the URL: `ssl=true` / `sslmode=require` encrypts; `verify-ca` / `verify-full` / `verify_identity` also verify. */
export function tlsMode(target: MysqlTarget): "off" | "require" | "verify" {
  const v = (target.params.sslmode ?? target.params["ssl-mode"] ?? target.params.ssl ?? "").toLowerCase();
  if (v === "" || v === "false" || v === "disable" || v === "disabled" || v === "0") return "off";
  if (/verify/.test(v)) return "verify";
  return "require";
}

/** Opens a mysql2 pool on `target` (the database given, or none with `database: null`). */
export async function openMysql(target: MysqlTarget, database: string | null = target.database, connectionLimit = 4): Promise<MysqlPool> {
  const mysql = await loadMysql2();
  const tls = tlsMode(target);
  const options: PoolOptions = {
    ...(target.socket !== undefined ? { socketPath: target.socket } : { host: target.host, port: target.port }),
    ...(target.user !== undefined ? { user: target.user } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(database !== null ? { database } : {}),
    ...(tls === "off" ? {} : { ssl: { rejectUnauthorized: tls === "verify" } }),
    connectionLimit,
    connectTimeout: Number(target.params.connect_timeout ?? 10) * 1000,
    charset: "utf8mb4",
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    multipleStatements: false,
  };
  const pool = mysql.createPool(options);
  // Canonical text: TIMESTAMP values in UTC, whatever the server's time zone.
  pool.on("connection", (conn) => void conn.query("SET time_zone = '+00:00'"));
  return pool;
}

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNRESET",
  "ENOENT",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "HANDSHAKE_SSL_ERROR",
]);
const AUTH_CODES = new Set([
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_NOT_SUPPORTED_AUTH_MODE",
  "ER_ACCESS_DENIED_NO_PASSWORD_ERROR",
  "ER_PASSWORD_NO_MATCH",
]);

/** Maps a mysql2 error to a coded UpgradeError, the password redacted from every message. */
export function mysqlError(
  err: unknown,
  target: MysqlTarget,
  what: string,
  fallback: "E_BACKUP" | "E_RESTORE" | "E_JOURNAL" | "E_CONNECT" | "E_MIGRATION_FAILED" | "E_VERIFY" | "E_REHEARSAL" = "E_CONNECT",
): UpgradeError {
  if (isUpgradeError(err)) return err;
  const e = err as { code?: string; message?: string; errno?: number };
  const where = describeTarget(target);
  const message = redactSecrets(String(e.message ?? err), [target.password ?? ""]);
  if (e.code !== undefined && CONNECT_CODES.has(e.code)) {
    return new UpgradeError("E_CONNECT", `cannot connect to MySQL at ${where} (${what}): ${message}`, {
      hint: `check that the server is running and reachable at ${target.socket ?? `${target.host}:${target.port}`}, and the host and port in the URL`,
      details: { target: where, code: e.code },
      cause: err,
    });
  }
  if (e.code !== undefined && AUTH_CODES.has(e.code)) {
    return new UpgradeError("E_AUTH", `MySQL refused the login to ${where}: ${message}`, {
      hint: "check the user and password in the URL (percent-encode special characters) and the user's grants",
      details: { target: where, code: e.code },
      cause: err,
    });
  }
  if (e.code === "ER_BAD_DB_ERROR") {
    return new UpgradeError("E_NOT_FOUND", `the MySQL database ${JSON.stringify(target.database)} does not exist at ${where}`, {
      hint: `check the database name in the URL; upgrade-machine never creates the database it upgrades`,
      details: { target: where, code: e.code },
      cause: err,
    });
  }
  return new UpgradeError(fallback, `${what} on ${where} failed: ${message}`, {
    hint: fallback === "E_JOURNAL" ? "check the journal database, then `upgrade-machine resume`" : "read the MySQL error above",
    details: { target: where, ...(e.code !== undefined ? { code: e.code } : {}) },
    cause: err,
  });
}

/** Backquotes an identifier. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/**
 * The options of the mysql/mariadb command-line tools, `--no-defaults` FIRST (the tools refuse it
 * anywhere else): no option file (`~/.my.cnf`, `/etc/mysql/my.cnf`, `$MYSQL_HOME/my.cnf`) can
 * change what is dumped or loaded, or where. Then the connection, all explicit: host and port
 * over TCP, or the socket; the user; TLS as the URL says, in the tool's own syntax (MariaDB's
 * `--ssl` / `--skip-ssl`, Oracle MySQL's `--ssl-mode`). Never the password (see `mysqlToolEnv`).
 */
export function mysqlToolArgs(target: MysqlTarget, flavour: "mariadb" | "mysql" = "mariadb"): string[] {
  const args = ["--no-defaults"];
  args.push(
    ...(target.socket !== undefined
      ? [`--socket=${target.socket}`, "--protocol=SOCKET"]
      : [`--host=${target.host}`, `--port=${target.port}`, "--protocol=TCP"]),
  );
  if (target.user !== undefined) args.push(`--user=${target.user}`);
  const tls = tlsMode(target);
  if (flavour === "mysql") args.push(`--ssl-mode=${{ off: "DISABLED", require: "REQUIRED", verify: "VERIFY_IDENTITY" }[tls]}`);
  else
    args.push(
      ...{ off: ["--skip-ssl"], require: ["--ssl", "--skip-ssl-verify-server-cert"], verify: ["--ssl", "--ssl-verify-server-cert"] }[tls],
    );
  return args;
}

/**
 * The environment of the tools: inherited minus MYSQL_* / MARIADB_* (host, port, socket, a
 * password or a login file of someone else's), plus MYSQL_PWD: the password never goes to argv,
 * where other users could read it. `--no-defaults` keeps MYSQL_PWD working (tested).
 */
export function mysqlToolEnv(target: MysqlTarget): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(MYSQL|MARIADB)/i.test(k)) env[k] = v;
  if (target.password !== undefined) env.MYSQL_PWD = target.password;
  return env;
}
