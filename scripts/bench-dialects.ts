// Backup / restore throughput of upgrade-machine's adapters against the native tools run by
// hand on the same data, and the peak memory of a fingerprint, for SQLite, PostgreSQL and
// MySQL/MariaDB.
//
//   node --import jiti/register scripts/bench-dialects.ts [--scale 1] [--only sqlite,postgres,mysql]
//
// Each dialect gets the drizzle-kit "shop" schema (test/fixtures/migrations) and
// scale x (100k customers, 500k orders, 1M order items, JSON columns, indexes, cascading FKs) in
// a database of its own, dropped at the end. MB/s = database size / wall time (the size a
// restore point must cover), measured once on a warm cache. Servers: UM_TEST_POSTGRES_URL and
// UM_TEST_MYSQL_URL (defaults: the local servers).
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openAdapter } from "../src/adapters/registry.js";
import type { BackupArtifact, DatabaseAdapter } from "../src/adapters/types.js";
import { runMigrations } from "../src/migrations/runner.js";
import { parseDatabaseUrl } from "../src/url.js";
import { shopMigrations } from "../test/contract/targets.js";
import { shopSeed } from "./bench/shop-data.js";
import { ADMIN_URL, createScratchDatabase, dropDatabases, execSql, querySql } from "../test/helpers/servers.js";

type Dialect = "sqlite" | "postgres" | "mysql";
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};

/** In the child: fingerprint `url`, print time, rows and peak RSS as JSON. */
async function fingerprintChild(url: string): Promise<void> {
  const adapter = await openAdapter(parseDatabaseUrl(url, "/"));
  await adapter.check();
  const baseline = process.memoryUsage().rss;
  const started = performance.now();
  const fp = await adapter.fingerprint();
  const ms = performance.now() - started;
  await adapter.close();
  const rows = Object.values(fp.tables).reduce((n, t) => n + t.rows, 0);
  console.log(JSON.stringify({ ms, rows, baselineRssMb: baseline / 2 ** 20, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

/** Runs a program by hand (argv, no shell), stdin/stdout optionally from/to files. */
function run(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string; stdout?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const fds: number[] = [];
    const input = options.stdin ? openSync(options.stdin, "r") : "ignore";
    const output = options.stdout ? openSync(options.stdout, "w", 0o600) : "pipe";
    for (const fd of [input, output]) if (typeof fd === "number") fds.push(fd);
    const child = spawn(argv[0]!, argv.slice(1), { env: options.env ?? process.env, stdio: [input, output, "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => {
      for (const fd of fds) closeSync(fd);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(" ")} exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

interface Row {
  dialect: string;
  what: string;
  seconds: number;
  mbPerS: number;
  note: string;
}
const rows: Row[] = [];
const mb = (bytes: number): number => bytes / 2 ** 20;
function record(dialect: string, what: string, seconds: number, dbBytes: number, note = ""): void {
  rows.push({ dialect, what, seconds, mbPerS: mb(dbBytes) / seconds, note });
  console.error(`  ${dialect} ${what}: ${seconds.toFixed(2)} s`);
}

async function fingerprintPeak(dialect: string, url: string, dbBytes: number): Promise<void> {
  // (jiti rewrites import.meta.resolve; the child finds jiti from the repository's node_modules)
  const register = new URL("../node_modules/jiti/lib/jiti-register.mjs", import.meta.url).href;
  const out = await run([process.execPath, "--import", register, fileURLToPath(import.meta.url), "--fingerprint-child", url]);
  const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { ms: number; rows: number; baselineRssMb: number; peakRssMb: number };
  record(
    dialect,
    "fingerprint (whole db)",
    r.ms / 1000,
    dbBytes,
    `${r.rows} rows; RSS ${r.baselineRssMb.toFixed(0)} MB before, peak ${r.peakRssMb.toFixed(0)} MB`,
  );
}

async function benchDialect(dialect: Dialect, scale: number, dir: string): Promise<void> {
  console.error(`${dialect}: loading scale ${scale}...`);
  let url: string;
  let name = "";
  let cleanup: () => Promise<void>;
  if (dialect === "sqlite") {
    url = `sqlite:${join(dir, "bench.sqlite")}`;
    cleanup = async () => undefined;
  } else {
    const db = await createScratchDatabase(dialect, "um_bench");
    ({ url, name } = db);
    cleanup = () => dropDatabases(dialect, [db.name, `${db.name}_byhand`]);
  }
  const adapter: DatabaseAdapter =
    dialect === "sqlite"
      ? (await import("../src/adapters/sqlite/index.js")).createSqliteAdapter({ path: url.slice(7), create: true })
      : await openAdapter(parseDatabaseUrl(url, "/"));
  try {
    await runMigrations(adapter.migrationDriver(), shopMigrations(dialect === "postgres" ? "pg" : dialect));
    if (dialect === "sqlite") {
      const Database = (await import("better-sqlite3")).default;
      const db = new Database(url.slice(7));
      for (const s of shopSeed(dialect, scale)) db.exec(s);
      db.close();
    } else await execSql(dialect, url, shopSeed(dialect, scale));
    const bytes = (await adapter.check()).bytes ?? 0;
    console.error(`${dialect}: ${mb(bytes).toFixed(0)} MB`);
    await fingerprintPeak(dialect, url, bytes);
    await adapter.backup(dir, `${dialect}-warm`); // warms the cache and the tool lookups
    const measures = [...ours(dialect, adapter, dir), ...byHand(dialect, url, name, dir)];
    if (dialect === "postgres") measures.push(...(await templateMeasures(url, dir)));
    // Two rounds, ours and by hand interleaved, best of two: the server's background work
    // (checkpoints, purge, autovacuum after the load) must not favour whichever runs last.
    const best = new Map<string, number>();
    for (let round = 0; round < 2; round++) {
      for (const m of measures) {
        await m.prepare?.();
        const t = await timed(m.run);
        best.set(m.what, Math.min(best.get(m.what) ?? Number.POSITIVE_INFINITY, t));
      }
    }
    for (const m of measures) record(dialect, m.what, best.get(m.what) ?? 0, bytes, m.note());
    await templateClose?.();
    templateClose = undefined;
  } finally {
    await adapter.close();
    await cleanup();
  }
}

interface Measure {
  what: string;
  note: () => string;
  prepare?: () => Promise<unknown>;
  run: () => Promise<unknown>;
}

/** upgrade-machine's own backup and restore. */
function ours(dialect: Dialect, adapter: DatabaseAdapter, dir: string): Measure[] {
  let artifact: BackupArtifact | undefined;
  const how = {
    sqlite: "copy + fsync + rename",
    postgres: "scratch db + pg_restore -1 + rename swap",
    mysql: "scratch db + mariadb < dump + RENAME TABLE swap (no expected fingerprint given: no proof)",
  }[dialect];
  return [
    {
      what: "backup: upgrade-machine",
      note: () => `${mb(artifact?.bytes ?? 0).toFixed(0)} MB file, sha256 while streaming`,
      run: async () => (artifact = await adapter.backup(dir, `${dialect}-ours`)),
    },
    { what: "restore: upgrade-machine", note: () => `${how}; sha256 checked before and while`, run: () => adapter.restore(artifact!) },
  ];
}

/** The native tools run by hand on the same database. */
function byHand(dialect: Dialect, url: string, name: string, dir: string): Measure[] {
  const file = join(dir, `${dialect}-byhand`);
  const size = (): string => `${mb(statSync(file).size).toFixed(0)} MB file`;
  if (dialect === "sqlite") {
    const path = url.slice(7);
    return [
      { what: "backup: sqlite3 .backup by hand", note: size, run: () => run(["sqlite3", path, `.backup ${file}`]) },
      { what: "restore: cp by hand", note: () => "no hash, no fsync", run: () => run(["cp", file, `${path}.copy`]) },
    ];
  }
  const t = parseDatabaseUrl(ADMIN_URL[dialect], "/") as { host: string; port: number; user?: string };
  if (dialect === "postgres") {
    const conn = ["-h", t.host, "-p", String(t.port), "-U", t.user ?? "postgres"];
    const scratch = `${name}_byhand`;
    return [
      { what: "backup: pg_dump -Fc by hand", note: size, run: () => run(["pg_dump", ...conn, "-Fc", "-f", file, name]) },
      {
        what: "restore: pg_restore --clean --if-exists -1",
        note: () => "into the live db: keeps objects the backup lacks",
        run: () => run(["pg_restore", ...conn, "--clean", "--if-exists", "--single-transaction", "-d", name, file]),
      },
      {
        what: "restore: createdb + pg_restore -1 by hand",
        note: () => "into an empty db",
        prepare: () => execSql(dialect, ADMIN_URL.postgres, [`DROP DATABASE IF EXISTS "${scratch}"`, `CREATE DATABASE "${scratch}"`]),
        run: () => run(["pg_restore", ...conn, "--single-transaction", "-d", scratch, file]),
      },
    ];
  }
  const conn = [`--host=${t.host}`, `--port=${t.port}`, `--user=${t.user ?? "root"}`, "--protocol=TCP"];
  const dump = ["mariadb-dump", ...conn, "--single-transaction", "--routines", "--triggers", "--events", "--hex-blob", name];
  return [
    { what: "backup: mariadb-dump by hand", note: size, run: () => run(dump, { stdout: file }) },
    {
      what: "restore: mariadb < dump by hand",
      note: () => "drop + create (untimed), then load",
      prepare: () => querySql(dialect, ADMIN_URL.mysql, [`DROP DATABASE \`${name}\``, `CREATE DATABASE \`${name}\``]),
      run: () => run(["mariadb", ...conn, name], { stdin: file }),
    },
  ];
}

let templateClose: (() => Promise<void>) | undefined;

/** PostgreSQL's template restore points (CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY). */
async function templateMeasures(url: string, dir: string): Promise<Measure[]> {
  const { createPostgresAdapter } = await import("../src/adapters/postgres/index.js");
  const template = createPostgresAdapter(parseDatabaseUrl(url, "/") as never, { backupStrategy: "template" });
  let point: BackupArtifact | undefined;
  templateClose = async () => {
    if (point) await template.dropBackup(point);
    await template.close();
  };
  return [
    {
      what: "backup: template (FILE_COPY)",
      note: () => "service stopped; a copy on the server",
      run: async () => (point = await template.backup(dir, "template")),
    },
    { what: "restore: template (FILE_COPY)", note: () => "copy of the copy + rename swap", run: () => template.restore(point!) },
  ];
}

if (args[0] === "--fingerprint-child") {
  await fingerprintChild(args[1] ?? "");
} else {
  const scale = Number(opt("scale", "1"));
  const only = opt("only", "sqlite,postgres,mysql").split(",") as Dialect[];
  const dir = mkdtempSync(join(tmpdir(), "um-bench-"));
  try {
    for (const dialect of only) await benchDialect(dialect, scale, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`\n${pad("dialect", 9)} ${pad("operation", 44)} ${"seconds".padStart(8)} ${"MB/s".padStart(8)}  note`);
  for (const r of rows)
    console.log(
      `${pad(r.dialect, 9)} ${pad(r.what, 44)} ${r.seconds.toFixed(2).padStart(8)} ${r.mbPerS.toFixed(0).padStart(8)}  ${r.note}`,
    );
}
