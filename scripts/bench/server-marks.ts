// What the change marks of the server dialects cost (issue 11): changeMark, and sinceMark with
// nothing written, with 1% of the rows rewritten, and (PostgreSQL) with WAL of another database
// only, on one database of about `rows` KB.
//
//   node --import jiti/register scripts/bench/server-marks.ts --dialect postgres|mysql [--rows 1000000]
//     [--url <admin url>] [--database um_bench_marks] [--runs 5] [--keep]
//
// `measureServerMarks` is the reusable part (scripts/bench.ts may import it). The database is
// loaded once (1 KB rows: `rows` 1,000,000 is about 1 GB) and kept with --keep, so later runs
// skip the load. On PostgreSQL, pg_walinspect is created in the maintenance database of the admin
// URL when missing (a benchmark server, not a user's). Times are wall-clock ms, median of `runs`.
import { pathToFileURL } from "node:url";
import { openAdapter } from "../../src/adapters/registry.js";
import type { ChangeMark, DatabaseAdapter, MarkCheck } from "../../src/adapters/types.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { ADMIN_URL, dropDatabases, execSql, querySql } from "../../test/helpers/servers.js";

type Dialect = "postgres" | "mysql";

/** One measured situation: times of sinceMark (ms) and what it answered. */
export interface MarkCase {
  ms: { median: number; min: number; max: number };
  answers: string[];
}

/** The result of `measureServerMarks`. */
export interface ServerMarkResult {
  dialect: Dialect;
  database: string;
  bytes: number;
  rows: number;
  loadSeconds: number | null;
  changeMark: MarkCase;
  nothingWritten: MarkCase;
  onePercentRewritten: MarkCase;
  /** PostgreSQL: 1% of the rows' worth of WAL written in another database, read by pg_walinspect. */
  otherDatabaseWal?: MarkCase & { walBytes: number };
}

/** Options of `measureServerMarks`. */
export interface ServerMarkOptions {
  dialect: Dialect;
  /** Admin URL (maintenance database); default the test servers'. */
  adminUrl?: string;
  database?: string;
  rows?: number;
  runs?: number;
  /** Keep the database for the next run (default: drop it). */
  keep?: boolean;
  log?: (line: string) => void;
}

const stats = (ms: number[]): MarkCase["ms"] => {
  const s = [...ms].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { median: r(s[Math.floor(s.length / 2)] ?? 0), min: r(s[0] ?? 0), max: r(s[s.length - 1] ?? 0) };
};
const answer = (c: MarkCheck): string => (c.unchanged ? "unchanged" : `changed: ${c.why}`);

async function timeCase(
  runs: number,
  setup: () => Promise<unknown>,
  adapter: DatabaseAdapter,
  between: () => Promise<unknown>,
): Promise<MarkCase> {
  const ms: number[] = [];
  const answers = new Set<string>();
  for (let i = 0; i < runs; i++) {
    await setup();
    const mark = await adapter.changeMark();
    if ("skipped" in mark) throw new Error(`no mark: ${mark.skipped}`);
    await between();
    const t = performance.now();
    answers.add(answer(await adapter.sinceMark(mark as ChangeMark)));
    ms.push(performance.now() - t);
  }
  return { ms: stats(ms), answers: [...answers] };
}

async function load(dialect: Dialect, adminUrl: string, name: string, rows: number): Promise<void> {
  if (dialect === "postgres") {
    await execSql(dialect, adminUrl, [`CREATE DATABASE "${name}"`]);
    await execSql(dialect, withBase(adminUrl, name), [
      "CREATE TABLE t (id bigint PRIMARY KEY, payload text NOT NULL)",
      `INSERT INTO t SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, ${rows}) g`,
      "CREATE SEQUENCE s",
      "VACUUM ANALYZE t",
    ]);
  } else {
    await execSql(dialect, adminUrl, [`CREATE DATABASE \`${name}\``]);
    await execSql(dialect, withBase(adminUrl, name), [
      "CREATE TABLE t (id bigint PRIMARY KEY, payload text NOT NULL) ENGINE=InnoDB",
      `INSERT INTO t SELECT seq, repeat(md5(seq), 30) FROM seq_1_to_${rows}`,
    ]);
  }
}

function withBase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function sizeOf(dialect: Dialect, url: string, name: string): Promise<{ bytes: number; rows: number } | null> {
  const q =
    dialect === "postgres"
      ? `SELECT pg_database_size(current_database())::text AS bytes, (SELECT count(*) FROM t)::text AS n`
      : `SELECT (SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${name}') AS bytes, (SELECT count(*) FROM t) AS n`;
  const row = await querySql<{ bytes: string; n: string }>(dialect, url, [q]).then(
    (r) => r[0],
    () => undefined,
  );
  return row ? { bytes: Number(row.bytes), rows: Number(row.n) } : null;
}

/** Measures the change marks of `options.dialect` on a database of about `rows` KB (see the file's header). */
export async function measureServerMarks(options: ServerMarkOptions): Promise<ServerMarkResult> {
  const { dialect } = options;
  const adminUrl = options.adminUrl ?? ADMIN_URL[dialect];
  const name = options.database ?? "um_bench_marks";
  const rows = options.rows ?? 1_000_000;
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => undefined);
  const url = withBase(adminUrl, name);
  let loadSeconds: number | null = null;
  let size = await sizeOf(dialect, url, name);
  if (!size || size.rows < rows) {
    log(`loading ${rows} rows into ${name}...`);
    await dropDatabases(dialect, [name], adminUrl);
    const t = performance.now();
    await load(dialect, adminUrl, name, rows);
    loadSeconds = Math.round((performance.now() - t) / 100) / 10;
    size = await sizeOf(dialect, url, name);
  }
  if (dialect === "postgres") await execSql(dialect, adminUrl, ["CREATE EXTENSION IF NOT EXISTS pg_walinspect"]);
  const adapter = await openAdapter(parseDatabaseUrl(url, "/"));
  const other = `${name}_other`;
  try {
    const nothing = async () => undefined;
    const settle = () => new Promise((r) => setTimeout(r, dialect === "mysql" ? 6000 : 200)); // InnoDB purge after writes
    log("changeMark...");
    const markMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await adapter.changeMark();
      markMs.push(performance.now() - t);
    }
    log("sinceMark, nothing written...");
    const nothingWritten = await timeCase(runs, settle, adapter, nothing);
    log("sinceMark, 1% rewritten...");
    let round = 0;
    const rewrite = () => execSql(dialect, url, [`UPDATE t SET payload = concat('r${++round}', payload) WHERE id % 100 = 0`]);
    const onePercentRewritten = await timeCase(runs, nothing, adapter, rewrite);
    const result: ServerMarkResult = {
      dialect,
      database: name,
      bytes: size?.bytes ?? 0,
      rows: size?.rows ?? 0,
      loadSeconds,
      changeMark: { ms: stats(markMs), answers: [] },
      nothingWritten,
      onePercentRewritten,
    };
    if (dialect === "postgres") {
      log("sinceMark, WAL of another database only...");
      const otherRows = Math.max(1, Math.floor(rows / 100));
      await dropDatabases(dialect, [other], adminUrl);
      await execSql(dialect, adminUrl, [`CREATE DATABASE "${other}"`]);
      await execSql(dialect, withBase(adminUrl, other), ["CREATE TABLE o (id bigint PRIMARY KEY, payload text NOT NULL)"]);
      const lsn = async () => (await querySql<{ l: string }>(dialect, adminUrl, ["SELECT pg_current_wal_insert_lsn()::text AS l"]))[0]!.l;
      const walBytes: number[] = [];
      const write = async () => {
        const before = await lsn();
        await execSql(dialect, withBase(adminUrl, other), [
          "TRUNCATE o",
          `INSERT INTO o SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, ${otherRows}) g`,
        ]);
        const [d] = await querySql<{ d: string }>(dialect, adminUrl, [`SELECT pg_wal_lsn_diff('${await lsn()}', '${before}')::text AS d`]);
        walBytes.push(Number(d?.d));
      };
      result.otherDatabaseWal = { ...(await timeCase(runs, nothing, adapter, write)), walBytes: stats(walBytes).median };
    }
    return result;
  } finally {
    await adapter.close();
    if (dialect === "postgres") await dropDatabases(dialect, [other], adminUrl).catch(() => undefined);
    if (!options.keep) await dropDatabases(dialect, [name], adminUrl);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const opt = (n: string): string | undefined => {
    const i = args.indexOf(`--${n}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const result = await measureServerMarks({
    dialect: (opt("dialect") ?? "postgres") as Dialect,
    ...(opt("url") ? { adminUrl: opt("url") } : {}),
    ...(opt("database") ? { database: opt("database") } : {}),
    rows: Number(opt("rows") ?? 1_000_000),
    runs: Number(opt("runs") ?? 5),
    keep: args.includes("--keep"),
    log: (line) => console.error(line),
  });
  console.log(JSON.stringify(result, null, 2));
}
