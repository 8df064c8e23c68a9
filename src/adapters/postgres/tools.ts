import { UpgradeError } from "../../errors.js";
import { findExecutable, parseVersion, runTool } from "../external/tool.js";

/** The PostgreSQL client programs the adapter runs. */
export type PgToolName = "pg_dump" | "pg_restore";

/** A client program found on the search path, with its version. */
export interface PgTool {
  name: PgToolName;
  path: string;
  /** The version it prints, e.g. `15.20`. */
  version: string;
  /** The major version as a number: 15 for 15.x, 9.6 for 9.6.x. */
  major: number;
}

/** The major version of a `server_version_num` (150020 -> 15, 90624 -> 9.6). */
export function serverMajor(versionNum: number): number {
  return versionNum >= 100_000 ? Math.floor(versionNum / 10_000) : Math.floor(versionNum / 10_000) + Math.floor((versionNum % 10_000) / 100) / 10;
}

function toolMajor(version: { major: number; minor: number }): number {
  return version.major >= 10 ? version.major : version.major + version.minor / 10;
}

const INSTALL_HINT =
  "install the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client; RHEL/Fedora: dnf install postgresql), " +
  "or point the adapter's `binPath` at the directory that holds them";

/**
 * Finds `name` on `binPath` (PATH syntax; default PATH) and reads its version. A client older
 * than the server cannot dump (or reliably restore) it, so a client whose major version is
 * below `serverVersionNum`'s is refused.
 *
 * @throws UpgradeError E_TOOL_MISSING (with the package to install) or E_TOOL_VERSION (with the fix).
 */
export async function findPgTool(name: PgToolName, serverVersionNum: number, binPath?: string): Promise<PgTool> {
  const path = await findExecutable([name], binPath);
  if (!path) {
    throw new UpgradeError("E_TOOL_MISSING", `${name} was not found on ${binPath !== undefined ? "the adapter's binPath" : "PATH"}`, {
      hint: INSTALL_HINT,
      details: { tool: name },
    });
  }
  const out = await runTool([path, "--version"], { env: process.env, secrets: [] }).catch((err: unknown) => {
    throw new UpgradeError("E_TOOL_MISSING", `${path} --version failed: ${(err as Error).message}`, { hint: INSTALL_HINT, details: { tool: name, path }, cause: err });
  });
  const parsed = parseVersion(out);
  if (!parsed) {
    throw new UpgradeError("E_TOOL_VERSION", `cannot read the version of ${path} (it printed ${JSON.stringify(out.trim().slice(0, 100))})`, {
      hint: `check that ${path} is PostgreSQL's ${name}`,
      details: { tool: name, path },
    });
  }
  const major = toolMajor(parsed);
  const server = serverMajor(serverVersionNum);
  if (major < server) {
    const want = server >= 10 ? String(server) : server.toFixed(1);
    throw new UpgradeError("E_TOOL_VERSION", `${name} ${parsed.text} (${path}) is older than the PostgreSQL ${want} server: it cannot ${name === "pg_dump" ? "dump" : "restore"} it safely`, {
      hint:
        `install the client of version ${want} or newer (Debian/Ubuntu: apt-get install postgresql-client-${want}, from apt.postgresql.org if your release lacks it) ` +
        `and put it first on PATH (Debian keeps it in /usr/lib/postgresql/${want}/bin), or set the adapter's binPath to its directory`,
      details: { tool: name, path, toolVersion: parsed.text, serverVersion: want },
    });
  }
  return { name, path, version: parsed.text, major };
}

/**
 * Turns a failed pg_dump / pg_restore run into a coded error from its (already redacted)
 * stderr: E_AUTH, E_CONNECT, E_NOT_FOUND, E_TOOL_VERSION, or `fallback` with the tail.
 */
export function classifyPgToolFailure(program: string, where: string, fallback: "E_BACKUP" | "E_RESTORE") {
  return (stderr: string, exitCode: number | null): UpgradeError => {
    const details = { program, target: where, exitCode, stderr };
    if (/password authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist|no password supplied/i.test(stderr)) {
      return new UpgradeError("E_AUTH", `${program} could not log in to ${where}: ${stderr}`, { hint: "check the user and password in the URL", details });
    }
    if (/could not connect|connection refused|could not translate host name|timeout expired|server closed the connection/i.test(stderr)) {
      return new UpgradeError("E_CONNECT", `${program} could not connect to ${where}: ${stderr}`, { hint: "check that PostgreSQL is running and reachable", details });
    }
    if (/database "[^"]*" does not exist/i.test(stderr)) {
      return new UpgradeError("E_NOT_FOUND", `${program}: the database of ${where} does not exist: ${stderr}`, { hint: "check the database name in the URL", details });
    }
    if (/server version mismatch|unsupported version .* in file header/i.test(stderr)) {
      return new UpgradeError("E_TOOL_VERSION", `${program} does not match the server or the archive: ${stderr}`, {
        hint: "install the PostgreSQL client tools of the server's major version or newer (apt-get install postgresql-client-<major>)",
        details,
      });
    }
    return new UpgradeError(fallback, `${program} failed (exit ${exitCode ?? "signal"}) on ${where}: ${stderr || "no error output"}`, {
      hint: fallback === "E_BACKUP" ? "read the error above; the database was not changed" : "read the error above; the backup is intact, restore again once the cause is fixed",
      details,
    });
  };
}
