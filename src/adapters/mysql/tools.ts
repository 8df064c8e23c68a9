import { UpgradeError } from "../../errors.js";
import { findExecutable, runTool } from "../external/tool.js";

/** What the adapter needs a program for. */
export type MysqlToolRole = "dump" | "client";

/** A MySQL / MariaDB client program found on the search path. */
export interface MysqlTool {
  role: MysqlToolRole;
  path: string;
  /** The server release it comes from, e.g. `10.11.19`. */
  version: string;
  major: number;
  /** MariaDB's tools, or Oracle MySQL's (their options differ). */
  flavour: "mariadb" | "mysql";
}

/** A server's version string (`SELECT VERSION()`), parsed. */
export interface MysqlServerVersion {
  text: string;
  major: number;
  flavour: "mariadb" | "mysql";
}

/** Parses `SELECT VERSION()` (`10.11.19-MariaDB-0+deb12u1`, `8.0.36`). */
export function parseServerVersion(text: string): MysqlServerVersion {
  const m = /^(\d+)\.(\d+)/.exec(text);
  return { text, major: Number(m?.[1] ?? 0), flavour: /mariadb/i.test(text) ? "mariadb" : "mysql" };
}

/**
 * Parses a tool's `--version`: MariaDB prints `Ver 10.19 Distrib 10.11.19-MariaDB` (10.x) or
 * `from 11.4.2-MariaDB, client 15.2`; MySQL prints `Ver 8.0.36 for Linux`.
 */
export function parseToolVersion(out: string): { version: string; major: number; flavour: "mariadb" | "mysql" } | undefined {
  const m = /Distrib (\d+)\.(\d+)\.?(\d*)/.exec(out) ?? /from (\d+)\.(\d+)\.?(\d*)/.exec(out) ?? /Ver (\d+)\.(\d+)\.?(\d*)/.exec(out);
  if (!m) return undefined;
  return { version: `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ""}`, major: Number(m[1]), flavour: /mariadb/i.test(out) ? "mariadb" : "mysql" };
}

const NAMES: Record<MysqlToolRole, Record<"mariadb" | "mysql", string[]>> = {
  dump: { mariadb: ["mariadb-dump", "mysqldump"], mysql: ["mysqldump", "mariadb-dump"] },
  client: { mariadb: ["mariadb", "mysql"], mysql: ["mysql", "mariadb"] },
};

const INSTALL_HINT =
  "install the client tools (Debian/Ubuntu: apt-get install mariadb-client, or default-mysql-client / mysql-client for Oracle MySQL), " +
  "or point the adapter's `binPath` at the directory that holds them";

/**
 * Finds the dump tool (`mariadb-dump` / `mysqldump`) or the client (`mariadb` / `mysql`) on
 * `binPath` (PATH syntax; default PATH), preferring the server's flavour, and checks its
 * version: a tool of the server's flavour whose major version is older than the server's is
 * refused (it does not know the server's newer syntax and options).
 *
 * @throws UpgradeError E_TOOL_MISSING (with the package to install) or E_TOOL_VERSION.
 */
export async function findMysqlTool(role: MysqlToolRole, server: MysqlServerVersion, binPath?: string): Promise<MysqlTool> {
  const names = NAMES[role][server.flavour];
  const path = await findExecutable(names, binPath);
  if (!path) {
    throw new UpgradeError(
      "E_TOOL_MISSING",
      `none of ${names.join(", ")} was found on ${binPath !== undefined ? "the adapter's binPath" : "PATH"}`,
      {
        hint: INSTALL_HINT,
        details: { tools: names },
      },
    );
  }
  const out = await runTool([path, "--no-defaults", "--version"], { env: process.env, secrets: [] });
  const parsed = parseToolVersion(out);
  if (!parsed) {
    throw new UpgradeError(
      "E_TOOL_VERSION",
      `cannot read the version of ${path} (it printed ${JSON.stringify(out.trim().slice(0, 100))})`,
      {
        hint: `check that ${path} is a MySQL or MariaDB client program`,
        details: { path },
      },
    );
  }
  if (parsed.flavour === server.flavour && parsed.major < server.major) {
    throw new UpgradeError(
      "E_TOOL_VERSION",
      `${path} comes from ${parsed.flavour} ${parsed.version}, older than the ${server.flavour} ${server.text} server`,
      {
        hint: `install the ${server.flavour === "mariadb" ? "mariadb-client" : "mysql-client"} package of version ${server.major} or newer and put it first on PATH, or set the adapter's binPath`,
        details: { path, toolVersion: parsed.version, serverVersion: server.text },
      },
    );
  }
  return { role, path, version: parsed.version, major: parsed.major, flavour: parsed.flavour };
}

/** Turns a failed dump / client run into a coded error from its (already redacted) stderr. */
export function classifyMysqlToolFailure(program: string, where: string, fallback: "E_BACKUP" | "E_RESTORE") {
  return (stderr: string, exitCode: number | null): UpgradeError => {
    const details = { program, target: where, exitCode, stderr };
    if (/access denied for user/i.test(stderr) && !/to database/i.test(stderr)) {
      return new UpgradeError("E_AUTH", `${program} could not log in to ${where}: ${stderr}`, {
        hint: "check the user and password in the URL",
        details,
      });
    }
    if (/can't connect|lost connection|unknown (mysql|mariadb) server host|connection refused/i.test(stderr)) {
      return new UpgradeError("E_CONNECT", `${program} could not connect to ${where}: ${stderr}`, {
        hint: "check that the server is running and reachable",
        details,
      });
    }
    if (/unknown database/i.test(stderr)) {
      return new UpgradeError("E_NOT_FOUND", `${program}: the database of ${where} does not exist: ${stderr}`, {
        hint: "check the database name in the URL",
        details,
      });
    }
    return new UpgradeError(fallback, `${program} failed (exit ${exitCode ?? "signal"}) on ${where}: ${stderr || "no error output"}`, {
      hint:
        fallback === "E_BACKUP"
          ? "read the error above; the database was not changed"
          : "read the error above; the backup is intact, restore again once the cause is fixed",
      details,
    });
  };
}
