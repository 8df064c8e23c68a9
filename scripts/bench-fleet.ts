// The fleet's overhead: N no-op targets (a tiny SQLite file each, no service, no migrations, no
// rehearsal: backup and seal are all a run does) rolled out to 2.0.0 by the built CLI, with the
// journal on the local PostgreSQL.
//
//   node --import jiti/register scripts/bench-fleet.ts      (npm run bench:fleet; needs npm run build)
//
// Cases: maxParallel 1, 4, 16 with one worker, then 2 and 4 workers at maxParallel 16 (`fleet run`
// plus `fleet work` processes started as soon as the rollout exists). Each case has fresh targets
// and a fleet name of its own in one journal database, created and dropped. Measured: the wall
// time from `fleet run` starting to the last worker's exit, and the journal's load: rows appended
// (run events, rollout events, runs) per second of that time. Every target must end `completed`.
// JSON into bench-results/bench-fleet.json, a table on stdout.
//
// The times include the workers' process start. Environment: BENCH_FLEET_TARGETS (200),
// BENCH_FLEET_DB (um_bench_fleet), BENCH_FLEET_TMP (the system temp folder). The journal server
// is the local PostgreSQL as postgres@127.0.0.1:5432 (trust auth), as in the tests.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import postgres from "postgres";
import { CLI, ROOT } from "./bench/proc.js";

const N = Number(process.env.BENCH_FLEET_TARGETS ?? 200);
const DB = process.env.BENCH_FLEET_DB ?? "um_bench_fleet";
const PG = { host: "127.0.0.1", port: 5432, user: "postgres", password: "", max: 1, onnotice: () => undefined };
const CASES = [
  { maxParallel: 1, workers: 1 },
  { maxParallel: 4, workers: 1 },
  { maxParallel: 16, workers: 1 },
  { maxParallel: 16, workers: 2 },
  { maxParallel: 16, workers: 4 },
];

interface CaseResult {
  maxParallel: number;
  workers: number;
  targets: number;
  seconds: number;
  targetsPerSecond: number;
  appends: number;
  appendsPerSecond: number;
}

/** N no-op targets under `dir`, named `<fleet>-NNN`, and the fleet file. */
function makeFleet(dir: string, fleet: string, maxParallel: number): string {
  for (let i = 1; i <= N; i++) {
    const name = `${fleet}-${String(i).padStart(3, "0")}`;
    const t = join(dir, name);
    mkdirSync(t, { recursive: true });
    const db = new Database(join(t, "data.sqlite"));
    db.exec("CREATE TABLE t (x integer)");
    db.close();
    writeFileSync(join(t, "upgrade.json"), JSON.stringify({ name, database: "sqlite:./data.sqlite", rehearse: false }));
  }
  const file = join(dir, "fleet.json");
  const spec = { name: fleet, journal: `postgres://postgres@127.0.0.1:5432/${DB}`, targets: ["./*/upgrade.json"], maxParallel };
  writeFileSync(file, JSON.stringify({ ...spec, waves: [{ size: 1 }, { rest: true }] }));
  return file;
}

/** Runs the CLI; resolves with its exit code and stdout (stderr shown only when it fails). */
function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) process.stderr.write(`bench-fleet: ${args.join(" ")} exited ${code}\n${err}`);
      resolve({ code: code ?? 1, stdout: out });
    });
  });
}

/** Whether the journal's fleet tables exist yet (they are made when the first rollout opens the journal). */
async function hasTables(sql: postgres.Sql): Promise<boolean> {
  const [r] = await sql`SELECT to_regclass('upgrade_machine_rollouts') IS NOT NULL AS ok`;
  return r!.ok === true;
}

/** Rows in the journal: run events, rollout events and runs. */
async function appended(sql: postgres.Sql): Promise<number> {
  if (!(await hasTables(sql))) return 0;
  const [r] = await sql`SELECT (SELECT count(*) FROM upgrade_machine_events) + (SELECT count(*) FROM upgrade_machine_rollout_events)
    + (SELECT count(*) FROM upgrade_machine_runs) AS n`;
  return Number(r!.n);
}

async function runCase(sql: postgres.Sql, dir: string, maxParallel: number, workers: number): Promise<CaseResult> {
  const fleet = `bench-p${maxParallel}-w${workers}`;
  const file = makeFleet(join(dir, fleet), fleet, maxParallel);
  const before = await appended(sql);
  const started = performance.now();
  const runs = [cli(["fleet", "run", "--fleet", file, "--to", "2.0.0"])];
  if (workers > 1) {
    // `fleet work` joins only an existing rollout: poll for it.
    while (!(await hasTables(sql)) || (await sql`SELECT 1 FROM upgrade_machine_rollouts WHERE fleet = ${fleet}`).length === 0)
      await new Promise((r) => setTimeout(r, 20));
    for (let w = 1; w < workers; w++) runs.push(cli(["fleet", "work", "--fleet", file]));
  }
  const codes = await Promise.all(runs);
  const seconds = (performance.now() - started) / 1000;
  const appends = (await appended(sql)) - before;
  const status = JSON.parse((await cli(["fleet", "status", "--fleet", file, "--json"])).stdout) as { targets: { state: string }[] };
  const completed = status.targets.filter((t) => t.state === "completed").length;
  // A worker that joins after the last target was claimed may find the rollout ended (exit not 0):
  // only `fleet run`'s exit and the targets count.
  if (codes[0]!.code !== 0 || completed !== N)
    throw new Error(`${fleet}: fleet run exited ${codes[0]!.code}, ${completed} of ${N} targets completed`);
  return {
    maxParallel,
    workers,
    targets: N,
    seconds: round(seconds),
    targetsPerSecond: round(N / seconds),
    appends,
    appendsPerSecond: round(appends / seconds),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const admin = postgres({ ...PG, database: "postgres" });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DB}`);
  const sql = postgres({ ...PG, database: DB });
  const base = process.env.BENCH_FLEET_TMP ?? tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, "bench-fleet-"));
  const results: CaseResult[] = [];
  try {
    for (const c of CASES) {
      results.push(await runCase(sql, dir, c.maxParallel, c.workers));
      const r = results[results.length - 1]!;
      process.stderr.write(`bench-fleet: maxParallel ${r.maxParallel}, ${r.workers} worker(s): ${r.seconds} s\n`);
    }
  } finally {
    await sql.end({ timeout: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.end({ timeout: 1 });
    rmSync(dir, { recursive: true, force: true });
  }
  const report = {
    generatedAt: new Date().toISOString(),
    context: { targets: N, cpus: cpus().length, loadavg1: round(loadavg()[0]!), node: process.version, journal: "local PostgreSQL" },
    results,
  };
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "bench-fleet.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`fleet of ${N} no-op targets (${cpus().length} CPUs, load ${report.context.loadavg1})`);
  console.log("maxParallel  workers  total s  targets/s  journal appends  appends/s");
  for (const r of results)
    console.log(
      [r.maxParallel, r.workers, r.seconds, r.targetsPerSecond, r.appends, r.appendsPerSecond]
        .map((v, i) => String(v).padStart([11, 8, 8, 10, 16, 10][i]!))
        .join("  "),
    );
}

await main();
