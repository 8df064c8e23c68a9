import { readdir } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { UpgradeError } from "../../errors.js";
import { findExecutable, parseVersion, runTool } from "../external/tool.js";
import { serverMajor } from "./catalog.js";

/** The PostgreSQL client programs the adapter runs. */
export type PgToolName = "pg_dump" | "pg_restore";

/** A client program with its version. */
export interface PgTool {
  name: PgToolName;
  path: string;
  /** The version it prints, e.g. `15.20`. */
  version: string;
  /** The major version as a number: 15 for 15.x, 9.6 for 9.6.x. */
  major: number;
}

/** Where a directory of client tools was found. */
export type PgToolSource = "toolsPath" | "PATH" | "install location";

/** pg_dump and pg_restore of one directory, both at least as new as the server. */
export interface PgClientTools {
  dir: string;
  source: PgToolSource;
  pgDump: PgTool;
  pgRestore: PgTool;
}

/** The result of a search: the tools chosen (null: none can serve this server), and why others were not. */
export interface PgToolSearchResult {
  chosen: PgClientTools | null;
  /** Each directory looked at and not chosen, with the reason, e.g. `/usr/bin (PATH): pg_dump 15.20 is older than the server (18)`. */
  rejected: string[];
  /** The server's major, as the search compared it. */
  serverMajor: number;
}

/** Where to look, in order. */
export interface PgToolSearch {
  /** `backup.toolsPath` (PATH syntax), searched first. */
  toolsPath?: string;
  /** Default `process.env.PATH`. */
  path?: string;
  /** Directories searched last; default `installLocations()`. */
  installDirs?: string[];
}

/**
 * The usual install locations of the client tools of each major, newest first: Debian and
 * Ubuntu (`/usr/lib/postgresql/<major>/bin`, also apt.postgresql.org's), the PGDG RPMs
 * (`/usr/pgsql-<major>/bin`), EDB's installers (`/opt/PostgreSQL/<major>/bin`,
 * `/Library/PostgreSQL/<major>/bin`), Homebrew (`postgresql@<major>`), Postgres.app, Alpine and
 * a source build's `/usr/local/pgsql/bin`. Only directories that exist are returned.
 */
export async function installLocations(): Promise<string[]> {
  const families: [parent: string, entry: RegExp, sub: string][] = [
    ["/usr/lib/postgresql", /^(\d+)$/, "bin"],
    ["/usr", /^pgsql-(\d+)$/, "bin"],
    ["/opt/PostgreSQL", /^(\d+)$/, "bin"],
    ["/Library/PostgreSQL", /^(\d+)$/, "bin"],
    ["/opt/homebrew/opt", /^postgresql@(\d+)$/, "bin"],
    ["/usr/local/opt", /^postgresql@(\d+)$/, "bin"],
    ["/Applications/Postgres.app/Contents/Versions", /^(\d+)$/, "bin"],
    ["/usr/libexec", /^postgresql(\d+)$/, ""],
  ];
  const found: { dir: string; major: number }[] = [];
  for (const [parent, entry, sub] of families) {
    const names = await readdir(parent).catch(() => [] as string[]);
    for (const name of names) {
      const m = entry.exec(name);
      if (m) found.push({ dir: join(parent, name, sub), major: Number(m[1]) });
    }
  }
  found.sort((a, b) => b.major - a.major);
  return [...found.map((f) => f.dir), "/usr/local/pgsql/bin"];
}

function toolMajor(version: { major: number; minor: number }): number {
  return version.major >= 10 ? version.major : version.major + version.minor / 10;
}

/** Reads a program's `--version`; the reason as a string when it does not run or is not PostgreSQL's. */
async function readTool(name: PgToolName, path: string): Promise<PgTool | string> {
  const out = await runTool([path, "--version"], { env: process.env, secrets: [] }).catch((err: unknown) => err as Error);
  if (out instanceof Error) return `${path} --version failed: ${out.message}`;
  const parsed = parseVersion(out);
  if (!parsed || !/PostgreSQL/i.test(out))
    return `${path} is not PostgreSQL's ${name} (it printed ${JSON.stringify(out.trim().slice(0, 80))})`;
  return { name, path, version: parsed.text, major: toolMajor(parsed) };
}

const fmt = (major: number): string => (major >= 10 ? String(major) : major.toFixed(1));

/**
 * Finds pg_dump and pg_restore for a server: every directory of `toolsPath`, then of PATH, then
 * the usual install locations, holding both; among those whose tools are at least as new as the
 * server's major (an older pg_dump refuses a newer server), the newest wins, the earlier in that
 * order on a tie. Never throws for tools that are missing or too old: `chosen` is then null and
 * `rejected` says what was found.
 */
export async function findPgClientTools(serverVersionNum: number, search: PgToolSearch = {}): Promise<PgToolSearchResult> {
  const server = serverMajor(serverVersionNum);
  const split = (p: string | undefined): string[] => (p ?? "").split(delimiter).filter((d) => d !== "");
  const dirs: [string, PgToolSource][] = [
    ...split(search.toolsPath).map((d): [string, PgToolSource] => [d, "toolsPath"]),
    ...split(search.path ?? process.env.PATH).map((d): [string, PgToolSource] => [d, "PATH"]),
    ...(search.installDirs ?? (await installLocations())).map((d): [string, PgToolSource] => [d, "install location"]),
  ];
  const seen = new Set<string>();
  const rejected: string[] = [];
  let chosen: PgClientTools | null = null;
  for (const [dir, source] of dirs) {
    const dumpPath = await findExecutable(["pg_dump"], dir);
    if (!dumpPath) continue;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const where = `${dir} (${source})`;
    const restorePath = await findExecutable(["pg_restore"], dir);
    if (!restorePath) {
      rejected.push(`${where}: pg_dump without pg_restore`);
      continue;
    }
    const [pgDump, pgRestore] = await Promise.all([readTool("pg_dump", dumpPath), readTool("pg_restore", restorePath)]);
    if (typeof pgDump === "string" || typeof pgRestore === "string") {
      rejected.push(`${where}: ${typeof pgDump === "string" ? pgDump : pgRestore}`);
      continue;
    }
    const major = Math.min(pgDump.major, pgRestore.major);
    if (major < server) {
      rejected.push(`${where}: pg_dump ${pgDump.version} is older than the server (${fmt(server)})`);
      continue;
    }
    if (chosen && Math.min(chosen.pgDump.major, chosen.pgRestore.major) >= major) {
      rejected.push(`${where}: pg_dump ${pgDump.version}, not newer than ${chosen.dir}'s ${chosen.pgDump.version}`);
      continue;
    }
    if (chosen) rejected.push(`${chosen.dir} (${chosen.source}): pg_dump ${chosen.pgDump.version}, older than ${dir}'s ${pgDump.version}`);
    chosen = { dir, source, pgDump, pgRestore };
  }
  return { chosen, rejected, serverMajor: server };
}

/** One line for the operator and the journal: which client tools serve the server, or that none can. */
export function describeClientTools(result: PgToolSearchResult): string {
  const c = result.chosen;
  if (c) return `client tools: pg_dump ${c.pgDump.version} and pg_restore ${c.pgRestore.version} from ${c.dir} (${c.source})`;
  return `client tools: no pg_dump at least as new as PostgreSQL ${fmt(result.serverMajor)}${result.rejected.length ? ` (found: ${result.rejected.join("; ")})` : " was found"}`;
}

/**
 * The error of a dump strategy without client tools that can serve the server: E_TOOL_MISSING
 * when there is no pg_dump at all, E_TOOL_VERSION when every one found is too old; the hint says
 * what to install and that the template strategy needs none.
 */
export function noClientToolsError(result: PgToolSearchResult): UpgradeError {
  const want = fmt(result.serverMajor);
  const tooOld = result.rejected.some((r) => r.includes("older than the server"));
  const hint =
    `install the PostgreSQL ${want} client tools or newer (Debian/Ubuntu: apt-get install postgresql-client-${want}, from apt.postgresql.org if your release lacks it; ` +
    `RHEL/Fedora: dnf install postgresql${want}) and put them on PATH or in backup.toolsPath; ` +
    `or set "backup": { "strategy": "template" }: template restore points need no client tools`;
  const details = { serverVersion: want, found: result.rejected };
  if (tooOld) {
    return new UpgradeError(
      "E_TOOL_VERSION",
      `no pg_dump at least as new as the PostgreSQL ${want} server was found: ${result.rejected.join("; ")}; an older pg_dump cannot dump it safely`,
      { hint, details },
    );
  }
  return new UpgradeError(
    "E_TOOL_MISSING",
    `pg_dump and pg_restore were not found (backup.toolsPath, PATH, the usual install locations)${result.rejected.length ? `: ${result.rejected.join("; ")}` : ""}`,
    {
      hint: `install the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client; RHEL/Fedora: dnf install postgresql), or point backup.toolsPath at them; or set "backup": { "strategy": "template" }: template restore points need no client tools`,
      details,
    },
  );
}

/**
 * Turns a failed pg_dump / pg_restore run into a coded error from its (already redacted)
 * stderr: E_AUTH, E_CONNECT, E_NOT_FOUND, E_TOOL_VERSION, or `fallback` with the tail.
 */
export function classifyPgToolFailure(program: string, where: string, fallback: "E_BACKUP" | "E_RESTORE") {
  return (stderr: string, exitCode: number | null): UpgradeError => {
    const details = { program, target: where, exitCode, stderr };
    if (/password authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist|no password supplied/i.test(stderr)) {
      return new UpgradeError("E_AUTH", `${program} could not log in to ${where}: ${stderr}`, {
        hint: "check the user and password in the URL",
        details,
      });
    }
    if (/database "[^"]*" does not exist/i.test(stderr)) {
      return new UpgradeError("E_NOT_FOUND", `${program}: the database of ${where} does not exist: ${stderr}`, {
        hint: "check the database name in the URL",
        details,
      });
    }
    if (
      /could not connect|connection refused|could not translate host name|timeout expired|server closed the connection|connection to server (?:at|on) .* failed/i.test(
        stderr,
      )
    ) {
      return new UpgradeError("E_CONNECT", `${program} could not connect to ${where}: ${stderr}`, {
        hint: "check that PostgreSQL is running and reachable, and the URL's sslmode and sslrootcert",
        details,
      });
    }
    if (/server version mismatch|unsupported version .* in file header/i.test(stderr)) {
      return new UpgradeError("E_TOOL_VERSION", `${program} does not match the server or the archive: ${stderr}`, {
        hint: "install the PostgreSQL client tools of the server's major version or newer (apt-get install postgresql-client-<major>)",
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
