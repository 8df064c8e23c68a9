// Backup, restore and rollback downtime per GB on every PostgreSQL major (14 to 18), for each
// backup strategy the machine can serve: the template strategy on each, the dump strategy where a
// pg_dump at least as new as the server exists (Debian's 15 serves 14 and 15). Also a template
// copy with STRATEGY FILE_COPY against the default WAL_LOG on the same data (15+).
//
//   npm run build && node --import jiti/register scripts/bench-pg-majors.ts [--scale 4] [--majors 14,15,16,17,18]
//
// Servers: Debian's 15 at UM_TEST_POSTGRES_URL (default 127.0.0.1:5432); 14, 16, 17, 18 started
// from the npm packages in temporary folders, fsync on (durable, like a real server), torn down at
// the end. Each major gets the drizzle-kit "shop" schema with scale x (100k customers, 500k
// orders, 1M order items). Rollback downtime: a real CLI run whose last migration fails, from the
// start of seal (the first step after the stop) to the end of startPrevious (the previous version
// would be serving again), from the journal's timestamps; "hot backup skipped" is the same run
// with a service session connected during the backup step and ended by the stop command.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createPostgresAdapter, type PostgresTarget } from "../src/adapters/postgres/index.js";
import { runMigrations } from "../src/migrations/runner.js";
import { parseDatabaseUrl } from "../src/url.js";
import { shopMigrations } from "../test/contract/targets.js";
import { npmBinaries, startCluster, type PgCluster } from "../test/helpers/pg-cluster.js";
import { ADMIN_URL, createScratchDatabase, execSql, querySql, type ScratchDatabase } from "../test/helpers/servers.js";
import { shopSeed } from "./bench/shop-data.js";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const scale = Number(opt("scale", "4"));
const majors = opt("majors", "14,15,16,17,18").split(",").map(Number);
const GB = 1024 ** 3;
const CLI = join(import.meta.dirname, "..", "dist", "cli.js");

/** The shop data at scale `s`, then a checkpoint (the copies that follow read it from disk). */
function seed(s: number): string[] {
  return [...shopSeed("postgres", s), "CHECKPOINT"];
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, (performance.now() - started) / 1000];
}

function cli(argv: string[], cwd: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

/** Seconds of a rollback's downtime (seal's start to startPrevious's end), and of seal and restoreDatabase in it. */
interface Downtime {
  total: number;
  seal: number;
  restoreDatabase: number;
}

/** A real rollback through the CLI on a copy of `source`, timed from the journal. */
async function rollbackDowntime(
  adminUrl: string,
  source: string,
  strategy: "dump" | "template",
  sessionDuringBackup: boolean,
  dir: string,
): Promise<Downtime> {
  const name = `${source}_rb`;
  await execSql("postgres", adminUrl, [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`, `CREATE DATABASE "${name}" TEMPLATE "${source}"`]);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const runDir = mkdtempSync(join(dir, "run-"));
  cpSync(shopMigrations("pg"), join(runDir, "migrations"), { recursive: true });
  const journal = join(runDir, "migrations", "meta", "_journal.json");
  const j = JSON.parse(readFileSync(journal, "utf8"));
  const last = j.entries[j.entries.length - 1];
  j.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: "0003_broken" });
  writeFileSync(journal, JSON.stringify(j));
  writeFileSync(
    join(runDir, "migrations", "0003_broken.sql"),
    `ALTER TABLE "customers" ADD "broken" text;\n--> statement-breakpoint\nINSERT INTO "no_such_table" VALUES (1);\n`,
  );
  const stop = [
    "psql",
    "-X",
    "-q",
    "-h",
    url.hostname,
    "-p",
    url.port || "5432",
    "-U",
    "postgres",
    "-d",
    "postgres",
    "-c",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench-service'",
  ];
  writeFileSync(
    join(runDir, "upgrade.json"),
    JSON.stringify({
      name: "bench",
      database: url.toString(),
      migrations: { drizzle: "./migrations" },
      backup: { strategy },
      service: { stop: { command: stop } },
    }),
  );
  const t = parseDatabaseUrl(url.toString(), "/") as PostgresTarget;
  const session = sessionDuringBackup
    ? postgres({
        host: t.host,
        port: t.port,
        user: t.user,
        database: t.database,
        max: 1,
        onnotice: () => undefined,
        connection: { application_name: "bench-service" },
      })
    : undefined;
  try {
    if (session) await session`SELECT 1`;
    const run = await cli(["run", "--config", join(runDir, "upgrade.json"), "--json"], runDir);
    if (run.code !== 1) throw new Error(`expected a rollback, got exit ${run.code}: ${run.stdout.slice(-2000)}`);
    const history = await cli(["history", "--config", join(runDir, "upgrade.json"), "--json"], runDir);
    const events = history.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; step: string | null; at: string });
    const at = (type: string, step: string) => Date.parse([...events].reverse().find((e) => e.type === type && e.step === step)?.at ?? "");
    const span = (step: string) => (at("step.succeeded", step) - at("step.started", step)) / 1000;
    return {
      total: (at("step.succeeded", "startPrevious") - at("step.started", "seal")) / 1000,
      seal: span("seal"),
      restoreDatabase: span("restoreDatabase"),
    };
  } finally {
    await session?.end({ timeout: 1 });
    await execSql("postgres", adminUrl, [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
    const like = await querySql<{ datname: string }>("postgres", adminUrl, [
      `SELECT datname FROM pg_database WHERE datname LIKE '${name}\\_\\_um\\_%'`,
    ]);
    await execSql(
      "postgres",
      adminUrl,
      like.map((r) => `DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`),
    );
  }
}

interface Row {
  major: number;
  strategy: string;
  gb: number;
  backup: number;
  restore: number;
  rollback: Downtime;
  rollbackSkipped?: Downtime;
}

async function benchMajor(
  major: number,
  adminUrl: string,
  dumpTools: boolean,
  dir: string,
): Promise<{ rows: Row[]; copy?: { fileCopy: number; walLog: number } }> {
  console.error(`PostgreSQL ${major}: loading scale ${scale}...`);
  const db: ScratchDatabase = await createScratchDatabase("postgres", "um_bench", adminUrl);
  const rows: Row[] = [];
  try {
    const target = parseDatabaseUrl(db.url, "/") as PostgresTarget;
    const loader = createPostgresAdapter(target);
    await runMigrations(loader.migrationDriver(), shopMigrations("pg"));
    await loader.close();
    await execSql("postgres", db.url, seed(scale));
    const [size] = await querySql<{ b: string; v: string }>("postgres", adminUrl, [
      `SELECT pg_database_size('${db.name}')::text AS b, current_setting('server_version') AS v`,
    ]);
    const gb = Number(size?.b) / GB;
    console.error(`PostgreSQL ${size?.v}: ${(gb * 1024).toFixed(0)} MB`);
    for (const strategy of dumpTools ? (["template", "dump"] as const) : (["template"] as const)) {
      const adapter = createPostgresAdapter(target, { backupStrategy: strategy });
      try {
        await adapter.check();
        const [artifact, backup] = await timed(() => adapter.backup(join(dir, `${major}-${strategy}`), "point"));
        const [, restore] = await timed(() => adapter.restore(artifact));
        await adapter.dropBackup(artifact);
        const rollback = await rollbackDowntime(adminUrl, db.name, strategy, false, dir);
        const rollbackSkipped =
          strategy === "template" && !dumpTools ? await rollbackDowntime(adminUrl, db.name, strategy, true, dir) : undefined;
        const perGb = (d: Downtime): Downtime => ({ total: d.total / gb, seal: d.seal / gb, restoreDatabase: d.restoreDatabase / gb });
        rows.push({
          major,
          strategy,
          gb,
          backup: backup / gb,
          restore: restore / gb,
          rollback: perGb(rollback),
          ...(rollbackSkipped ? { rollbackSkipped: perGb(rollbackSkipped) } : {}),
        });
        console.error(JSON.stringify(rows.at(-1)));
      } finally {
        await adapter.close();
      }
    }
    let copy: { fileCopy: number; walLog: number } | undefined;
    if (major >= 15) {
      const measure = async (s: string): Promise<number> => {
        const name = `${db.name}_${s.toLowerCase()}`;
        const [, secs] = await timed(() =>
          execSql("postgres", adminUrl, [`CREATE DATABASE "${name}" TEMPLATE "${db.name}" STRATEGY ${s}`]),
        );
        await execSql("postgres", adminUrl, [`DROP DATABASE "${name}"`]);
        return secs / gb;
      };
      // alternate, twice each, so that neither profits from the other's cache
      const f1 = await measure("FILE_COPY");
      const w1 = await measure("WAL_LOG");
      const f2 = await measure("FILE_COPY");
      const w2 = await measure("WAL_LOG");
      copy = { fileCopy: Math.min(f1, f2), walLog: Math.min(w1, w2) };
      console.error(
        `PostgreSQL ${major}: CREATE DATABASE ... TEMPLATE, s/GB: FILE_COPY ${copy.fileCopy.toFixed(2)}, WAL_LOG ${copy.walLog.toFixed(2)}`,
      );
    }
    return { rows, ...(copy ? { copy } : {}) };
  } finally {
    await db.drop();
  }
}

const dir = mkdtempSync(join(tmpdir(), "um-bench-majors-"));
const clusters: PgCluster[] = [];
const results: { rows: Row[]; copy?: { fileCopy: number; walLog: number }; major: number }[] = [];
try {
  for (const major of majors) {
    let adminUrl = ADMIN_URL.postgres;
    if (major !== 15) {
      const bin = await npmBinaries(major);
      if ("missing" in bin) throw new Error(bin.missing);
      const cluster = await startCluster(bin, { port: 5400 + major, fast: false });
      clusters.push(cluster);
      adminUrl = cluster.adminUrl;
    }
    results.push({ major, ...(await benchMajor(major, adminUrl, major <= 15, dir)) });
    await Promise.all(clusters.splice(0).map((c) => c.stop()));
  }
} finally {
  await Promise.all(clusters.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
}

const f = (n: number | undefined): string => (n === undefined ? "–" : n.toFixed(1));
console.log(`\nPostgreSQL majors, scale ${scale}; seconds per GB of database (2-core machine)\n`);
console.log(
  "| major | strategy | database | backup s/GB | restore s/GB | rollback downtime s/GB (seal + restoreDatabase in it) | same, hot backup skipped | template copy FILE_COPY / WAL_LOG s/GB |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
const d = (x: Downtime | undefined): string => (x ? `${f(x.total)} (${f(x.seal)} + ${f(x.restoreDatabase)})` : "–");
for (const r of results) {
  for (const row of r.rows) {
    const copy =
      row.strategy === "template"
        ? r.copy
          ? `${f(r.copy.fileCopy)} / ${f(r.copy.walLog)}`
          : "file copy only (no STRATEGY before 15)"
        : "";
    console.log(
      `| ${row.major} | ${row.strategy} | ${(row.gb * 1024).toFixed(0)} MB | ${f(row.backup)} | ${f(row.restore)} | ${d(row.rollback)} | ${d(row.rollbackSkipped)} | ${copy} |`,
    );
  }
}
