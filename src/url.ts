import { isAbsolute, resolve } from "node:path";
import { UpgradeError } from "./errors.js";

/** A parsed database URL: a SQLite file, or a PostgreSQL / MySQL (MariaDB) server database. */
export type DatabaseTarget =
  | {
      dialect: "sqlite";
      /** Absolute path of the database file. */
      path: string;
    }
  | {
      dialect: "postgres" | "mysql";
      /** Host name (lower-cased); `localhost` when the URL names only a unix socket. */
      host: string;
      /** TCP port (default 5432 for postgres, 3306 for mysql); also names the socket file. */
      port: number;
      /** Percent-decoded user name. */
      user?: string;
      /** Percent-decoded password (never printed: see `describeTarget`). */
      password?: string;
      /** Percent-decoded database name, never empty. */
      database: string;
      /** The remaining query parameters (e.g. `sslmode`), percent-decoded. */
      params: Record<string, string>;
      /** Directory (postgres) or file (mysql) of the unix socket, when the URL names one. */
      socket?: string;
    };

const ACCEPTED =
  "accepted database URLs: sqlite:./relative/path.sqlite, sqlite:/absolute/path.sqlite, " +
  "sqlite:///absolute/path.sqlite (file: works like sqlite:), " +
  "postgres://user:password@host:5432/database?sslmode=require (or postgresql://; " +
  "a unix socket as ?host=/var/run/postgresql), mysql://user:password@host:3306/database " +
  "(or mariadb://); percent-encode special characters in the user and password";

/** Query parameter names whose values are secrets. */
const SECRET_PARAMS = /([?&](?:password|pass|pwd|passwd|sslpassword|secret|token|access_token|api_key|apikey)=)[^&#\s"'`]*/gi;

function urlError(url: string, problem: string): UpgradeError {
  return new UpgradeError("E_URL", `invalid database URL "${redactUrl(url)}": ${problem}`, {
    hint: ACCEPTED,
  });
}

function decode(url: string, part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw urlError(url, `malformed percent-encoding in the ${what}`);
  }
}

/**
 * Parses a database URL. Relative SQLite paths are resolved against `baseDir`.
 * Throws `E_URL` (message with the password redacted, hint listing the accepted forms).
 */
export function parseDatabaseUrl(url: string, baseDir: string): DatabaseTarget {
  const text = url.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  if (!m?.[1]) throw urlError(text, "no scheme (it must start with sqlite:, postgres:// or mysql://)");
  const scheme = m[1].toLowerCase();
  const rest = text.slice(m[0].length);
  if (scheme === "sqlite" || scheme === "file") return parseSqlite(text, rest, baseDir);
  const dialect =
    scheme === "postgres" || scheme === "postgresql" ? "postgres" : scheme === "mysql" || scheme === "mariadb" ? "mysql" : null;
  if (!dialect) throw urlError(text, `unknown scheme "${scheme}"`);
  if (!rest.startsWith("//")) throw urlError(text, `expected "${scheme}://" followed by host and database`);
  return parseServer(text, rest.slice(2), dialect, baseDir);
}

function parseSqlite(url: string, rest: string, baseDir: string): DatabaseTarget {
  let file = rest;
  if (file.startsWith("//")) {
    file = file.slice(2);
    if (!file.startsWith("/")) throw urlError(url, "a sqlite URL has no host: write sqlite:./relative or sqlite:///absolute");
  }
  if (file === "" || file === "/") throw urlError(url, "empty sqlite path");
  if (file === ":memory:") throw urlError(url, "an in-memory database cannot be upgraded");
  return { dialect: "sqlite", path: isAbsolute(file) ? resolve(file) : resolve(baseDir, file) };
}

function parseServer(url: string, rest: string, dialect: "postgres" | "mysql", baseDir: string): DatabaseTarget {
  const authEnd = rest.search(/[/?#]/);
  const authority = authEnd < 0 ? rest : rest.slice(0, authEnd);
  const tail = authEnd < 0 ? "" : rest.slice(authEnd);
  const at = authority.lastIndexOf("@");
  const userinfo = at < 0 ? "" : authority.slice(0, at);
  const hostport = at < 0 ? authority : authority.slice(at + 1);

  let user: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const colon = userinfo.indexOf(":");
    user = decode(url, colon < 0 ? userinfo : userinfo.slice(0, colon), "user") || undefined;
    if (colon >= 0) password = decode(url, userinfo.slice(colon + 1), "password") || undefined;
  }

  let rawHost = hostport;
  let rawPort = "";
  if (hostport.startsWith("[")) {
    const close = hostport.indexOf("]");
    if (close < 0) throw urlError(url, "unterminated IPv6 address");
    rawHost = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) throw urlError(url, "unexpected text after the IPv6 address");
    rawPort = after.slice(1);
  } else {
    const colon = hostport.lastIndexOf(":");
    if (colon >= 0) {
      rawHost = hostport.slice(0, colon);
      rawPort = hostport.slice(colon + 1);
    }
  }
  if (rawHost.includes(",")) throw urlError(url, "several hosts are not supported");
  let host = decode(url, rawHost, "host");

  const noFragment = tail.split("#")[0] ?? "";
  const q = noFragment.indexOf("?");
  const pathPart = q < 0 ? noFragment : noFragment.slice(0, q);
  const params: Record<string, string> = {};
  if (q >= 0) {
    for (const pair of noFragment.slice(q + 1).split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const key = decode(url, eq < 0 ? pair : pair.slice(0, eq), "query");
      params[key] = decode(url, eq < 0 ? "" : pair.slice(eq + 1), "query");
    }
  }

  const rawDb = pathPart.replace(/^\//, "");
  if (rawDb.includes("/")) throw urlError(url, "the database name must not contain '/' (percent-encode it)");
  const database = decode(url, rawDb, "database name");
  if (database === "") throw urlError(url, "empty database name (add /<database> after the host)");

  if (params.port !== undefined && rawPort === "") rawPort = params.port;
  delete params.port;
  let port = dialect === "postgres" ? 5432 : 3306;
  if (rawPort !== "") {
    const shown = /^\d+$/.test(rawPort) ? ` ${rawPort}` : "";
    const n = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
    if (!(n >= 1 && n <= 65535)) throw urlError(url, `bad port${shown}: it must be a number from 1 to 65535`);
    port = n;
  }
  if (params.user !== undefined) {
    user ??= params.user || undefined;
    delete params.user;
  }
  if (params.password !== undefined) {
    password ??= params.password || undefined;
    delete params.password;
  }

  let socket: string | undefined;
  if (host.startsWith("/")) {
    socket = host;
    host = "";
  }
  const socketParam = params.host ?? params.socket ?? params.socketPath;
  if (socketParam !== undefined) {
    if (socketParam.startsWith("/")) socket = socketParam;
    else if (host === "") host = socketParam;
    delete params.host;
    delete params.socket;
    delete params.socketPath;
  }
  host = host === "" ? "localhost" : host.toLowerCase();
  if (dialect === "postgres") {
    // libpq reads these files relative to its working directory; the driver and the client tools
    // must read the same file, so a relative path is taken relative to the config, like sqlite: paths.
    for (const key of ["sslrootcert", "sslcert", "sslkey", "sslcrl"]) {
      const value = params[key];
      if (value !== undefined && value !== "" && value !== "system" && !isAbsolute(value)) params[key] = resolve(baseDir, value);
    }
  }
  return {
    dialect,
    host,
    port,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    database,
    params,
    ...(socket !== undefined ? { socket } : {}),
  };
}

/**
 * A URL for `target` that means the same from any directory: a SQLite file's URL with its
 * absolute path; a server's URL as `written` (it may carry a password: never print it).
 */
export function absoluteUrl(target: DatabaseTarget, written: string): string {
  return target.dialect === "sqlite" ? `sqlite:${target.path}` : written;
}

/** `scheme://user:` followed by the rest of a whitespace-delimited token. */
const CREDENTIALS = /([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/\s"'`<>]*:)([^\s"'`<>]*)/g;

/** Hides what precedes the `@` ending the userinfo; when `/`, `?` or `#` come first, the last `@`. */
function hidePassword(prefix: string, tail: string): string {
  const auth = /^[^/?#]*@/.exec(tail);
  if (auth) return `${prefix}***@${tail.slice(auth[0].length)}`;
  const last = tail.lastIndexOf("@");
  return last < 0 ? prefix + tail : `${prefix}***@${tail.slice(last + 1)}`;
}

/**
 * Replaces the password of a URL (and secret query parameters such as `?password=`) with `***`.
 * Works on any scheme; a password with raw `@`, `/`, `?` or spaces is still hidden (up to an `@`),
 * and so is a `user:password@` in a malformed URL (no `//`, no scheme).
 */
export function redactUrl(url: string): string {
  const m = /^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:@/\s]*:)(.*)$/s.exec(url);
  let out = m && m[1] !== undefined && m[2] !== undefined ? hidePassword(m[1], m[2]) : url;
  const at = out.lastIndexOf("@");
  if (!m && at >= 0) {
    const prefix = /^\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? "";
    if (url.slice(prefix.length, at).includes(":")) out = `${prefix}***@${url.slice(at + 1)}`;
  }
  return out.replace(SECRET_PARAMS, "$1***");
}

/** Absolute paths in free text: `/a/b`, not preceded by a word character or a scheme's `:`. */
const PATH_TOKEN = /(?<![\w:/])\/[^\s'"`,;()<>]*/g;

/** The [start, end) ranges of `text` that redaction leaves alone: absolute paths and `protect`ed strings. */
function protectedRanges(text: string, protect: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const m of text.matchAll(PATH_TOKEN)) ranges.push([m.index, m.index + m[0].length]);
  for (const p of protect) {
    if (!p) continue;
    for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) ranges.push([i, i + p.length]);
  }
  return ranges;
}

/**
 * Redacts secrets in free text that comes from outside (command output, server messages, error
 * text): the password of every `scheme://user:pass@` URL, secret query parameters (`?password=`,
 * `&token=`...), and each exact occurrence of each of `secrets` (also percent-encoded), replaced
 * with `***`. An occurrence inside an absolute path or one of `protect` is left alone, so a
 * password that is also a word of a path never changes the path (such a password is visible in
 * the path anyway). Structured data (outputs, paths, fingerprints) must never go through this.
 */
export function redactSecrets(text: string, secrets: readonly string[], protect: readonly string[] = []): string {
  let out = text.replace(CREDENTIALS, (_all, prefix: string, tail: string) => hidePassword(prefix, tail)).replace(SECRET_PARAMS, "$1***");
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
  }
  if (forms.size === 0) return out;
  const ranges = protectedRanges(out, protect);
  const hits: [number, number][] = [];
  for (const s of [...forms].sort((a, b) => b.length - a.length)) {
    for (let i = out.indexOf(s); i >= 0; i = out.indexOf(s, i + 1)) {
      const end = i + s.length;
      if (ranges.some(([a, b]) => i < b && end > a) || hits.some(([a, b]) => i < b && end > a)) continue;
      hits.push([i, end]);
    }
  }
  for (const [a, b] of hits.sort((x, y) => y[0] - x[0])) out = `${out.slice(0, a)}***${out.slice(b)}`;
  return out;
}

export function serverAddress(t: Extract<DatabaseTarget, { dialect: "postgres" | "mysql" }>): string {
  const host =
    t.socket !== undefined ? encodeURIComponent(t.socket) : t.host.includes(":") && !t.host.startsWith("[") ? `[${t.host}]` : t.host;
  return `${host}:${t.port}/${encodeURIComponent(t.database)}`;
}

/**
 * A stable, secret-free identity of the target, used for leases: `sqlite:/abs/path`,
 * `postgres://host:port/db`, `mysql://host:port/db` (a unix socket appears percent-encoded as the host).
 */
export function targetId(t: DatabaseTarget): string {
  if (t.dialect === "sqlite") return `sqlite:${t.path}`;
  return `${t.dialect}://${serverAddress(t)}`;
}

/** The target, printable: user, host, port, database and parameters, with the password as `***`. */
export function describeTarget(t: DatabaseTarget): string {
  if (t.dialect === "sqlite") return `sqlite:${t.path}`;
  const cred =
    t.user !== undefined
      ? `${encodeURIComponent(t.user)}${t.password !== undefined ? ":***" : ""}@`
      : t.password !== undefined
        ? ":***@"
        : "";
  const query = Object.entries(t.params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  return redactUrl(`${t.dialect}://${cred}${serverAddress(t)}${query ? `?${query}` : ""}`);
}
