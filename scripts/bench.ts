/**
 * `npm run bench`: upgrade-machine's figures against what a user would otherwise do, measured in
 * one run on the same data, each the median of BENCH_RUNS (default 3) runs with min and max:
 *   - SQLite, the example blog on ~1 GB (BENCH_SQLITE_MB): downtime of an upgrade vs by hand,
 *     with the per-step split; the seal vs the hot backup (nothing written, 1% rewritten); the
 *     full copy vs `cp`; the hot backup vs `sqlite3 .backup`;
 *   - PostgreSQL (dump and template strategies) and MariaDB, ~256 MB (BENCH_SERVER_MB): downtime
 *     vs by hand (pg_dump / mariadb-dump after the stop, then migrate, start);
 *   - the journal: append p50/p99 vs a bare insert, replay of 10,000 events, the live view's
 *     first open;
 *   - peak RSS of backup, fingerprint, restore and a run whose seal meets writes, on SQLite and
 *     PostgreSQL: on the sizes above, or BENCH_RSS_GB (e.g. 4) GB databases built for it.
 * Prints the table and writes bench-results/bench.json (BENCH_OUT); `npm run bench:readme` puts
 * it into the README. BENCH_ONLY=journal,sqlite,postgres,mysql,rss picks sections ("rss sqlite" or
 * "rss postgres" one of the two; BENCH_RSS_RUNS their runs, default BENCH_RUNS); BENCH_BUILD=0
 * skips `npm run build` (the runs use the built CLI, as users do). Ports BENCH_PORT_BASE (4700) to +6;
 * database names start with BENCH_DB_PREFIX (um_sd_bench). The JSON is rewritten after every section.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { journalBench } from "./bench/journal-bench.js";
import { loadAverage, ROOT, run } from "./bench/proc.js";
import { type BenchReport, type BenchRow, renderConsole, writeReport } from "./bench/report.js";
import { postgresRss, sqliteRss } from "./bench/rss.js";
import { serverBench } from "./bench/servers-downtime.js";
import { type BlogData, buildBlogData } from "./bench/sqlite-data.js";
import { sqliteBench } from "./bench/sqlite-downtime.js";

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined || v === "" ? fallback : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${v}`);
  return n;
};
const runs = Math.max(3, Math.round(env("BENCH_RUNS", 3)));
// Peak RSS hardly varies between runs (3 runs of each lay within 8% of each other at 4 GB of SQLite): BENCH_RSS_RUNS=1 makes a 4 GB PostgreSQL run affordable.
const rssRuns = Math.round(env("BENCH_RSS_RUNS", runs));
const sqliteMb = env("BENCH_SQLITE_MB", 1024);
const serverMb = env("BENCH_SERVER_MB", 256);
const rssGb = process.env.BENCH_RSS_GB ? env("BENCH_RSS_GB", 1) : null;
const only = new Set((process.env.BENCH_ONLY ?? "journal,sqlite,postgres,mysql,rss").split(","));
const out = process.env.BENCH_OUT ?? join(ROOT, "bench-results", "bench.json");
const port = env("BENCH_PORT_BASE", 4700);

const rows: BenchRow[] = [];
const errors: string[] = [];
const load: Record<string, number> = { start: await loadAverage() };
const started = performance.now();
const commit = (await run(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).catch(() => "?")).trim();
const work = mkdtempSync(join(tmpdir(), "um-sd-bench-"));
const section = async (name: string, fn: () => Promise<BenchRow[]>) => {
  if (!only.has(name) && !only.has(name.split(" ")[0]!)) return;
  console.error(`${name}...`);
  const t0 = performance.now();
  try {
    rows.push(...(await fn()));
  } catch (err) {
    // one section failing (a server down, a run that rolled back) must not lose the others' figures
    errors.push(`${name}: ${(err as Error).message}`);
    console.error(`${name} FAILED: ${(err as Error).stack}`);
  }
  load[name] = await loadAverage();
  writeReport(out, report()); // what is measured so far survives an interrupted benchmark
  console.error(`${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${load[name]}`);
};

try {
  if (process.env.BENCH_BUILD !== "0") await run(["npm", "run", "build"], { cwd: ROOT });
  await section("journal", () => journalBench(work, runs));
  let blog: BlogData | undefined;
  const blogData = async (mb: number) => {
    const b = await buildBlogData(mkdtempSync(join(work, "data-")), mb);
    console.error(`  blog data: ${(b.bytes / 2 ** 20).toFixed(0)} MB, ${b.rows.posts} posts, built in ${b.seconds.toFixed(1)} s`);
    return b;
  };
  await section("sqlite", async () => sqliteBench(work, (blog = await blogData(sqliteMb)), runs, [port, port + 1]));
  await section("postgres", () => serverBench("postgres", work, serverMb, runs, [port + 2, port + 3, port + 4]));
  await section("mysql", () => serverBench("mysql", work, serverMb, runs, [port + 5, port + 6]));
  await section("rss sqlite", async () => {
    const data = rssGb || !blog ? await blogData((rssGb ?? sqliteMb / 1024) * 1024) : blog;
    return sqliteRss(data.file, work, rssRuns);
  });
  await section("rss postgres", () => postgresRss(rssGb ? rssGb * 1024 : serverMb, work, rssRuns));
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** The report of what is measured so far. */
function report(): BenchReport {
  return {
    generatedAt: new Date().toISOString(),
    context: {
      commit,
      node: process.version,
      cpus: cpus().length,
      runs,
      rssRuns,
      only: [...only].join(","),
      sqliteMb,
      serverMb,
      rssGb,
      loadAverage: load,
      seconds: Math.round((performance.now() - started) / 1000),
      errors,
    },
    rows,
  };
}
writeReport(out, report());
process.exitCode = errors.length ? 1 : 0;
console.log(renderConsole(rows));
for (const e of errors) console.log(`FAILED: ${e}`);
console.log(`\nwritten to ${out} (${Math.round((performance.now() - started) / 1000)} s; load average ${JSON.stringify(load)})`);
