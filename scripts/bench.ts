/**
 * `npm run bench`: the figures of the SQLite spine, each against what a user would otherwise
 * use, measured in the same run on the same data.
 *   1. journal append latency (ours: hash chain + fencing through drizzle) vs a bare
 *      better-sqlite3 INSERT with the same durability (WAL, synchronous=FULL);
 *   2. backup throughput (ours: online backup API + sha256) vs `cp` and `sqlite3 .backup`;
 *   3. a full upgrade of the example service vs the same steps by hand (a shell script).
 * BENCH_MB sets the size of the backup database (default 256).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { createSqliteAdapter } from "../src/adapters/sqlite/index.js";
import { RunJournal } from "../src/journal/journal.js";
import { openJournal } from "../src/journal/open.js";
import { upgrade } from "../src/api.js";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3");
const root = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "um-bench-"));
const ms = (ns: bigint) => Number(ns) / 1e6;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const rows: string[][] = [["measure", "upgrade-machine", "baseline", "ratio"]];

async function journalAppend(n = 2000) {
  const store = await openJournal(`sqlite:${join(work, "journal.sqlite")}`, work);
  const journal = await RunJournal.create(store, { runId: "bench", target: "t", name: "bench", createdAt: new Date().toISOString() }, {});
  const ours: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await journal.append({ type: "step.started", step: "migrate", payload: { attempt: i } });
    ours.push(ms(process.hrtime.bigint() - t));
  }
  await store.close();
  const raw = new Database(join(work, "raw.sqlite"));
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.exec("CREATE TABLE e (run_id text, seq integer, type text, step text, payload text, at text, hash text, PRIMARY KEY (run_id, seq))");
  const ins = raw.prepare("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?)");
  const base: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    ins.run("r", i, "step.started", "migrate", JSON.stringify({ attempt: i }), new Date().toISOString(), "x".repeat(64));
    base.push(ms(process.hrtime.bigint() - t));
  }
  raw.close();
  rows.push([
    `journal append p50 (ms, n=${n})`,
    pct(ours, 50).toFixed(3),
    pct(base, 50).toFixed(3),
    (pct(ours, 50) / pct(base, 50)).toFixed(2),
  ]);
  rows.push([
    `journal append p99 (ms, n=${n})`,
    pct(ours, 99).toFixed(3),
    pct(base, 99).toFixed(3),
    (pct(ours, 99) / pct(base, 99)).toFixed(2),
  ]);
}

async function backupThroughput(mb = Number(process.env.BENCH_MB ?? 256)) {
  const file = join(work, "big.sqlite");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (id integer primary key, a text, b blob)");
  const ins = db.prepare("INSERT INTO t (a, b) VALUES (?, randomblob(900))");
  const rowsNeeded = Math.ceil((mb * 1024 * 1024) / 1000);
  db.transaction(() => {
    for (let i = 0; i < rowsNeeded; i++) ins.run(`row ${i}`);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const size = statSync(file).size / 1024 / 1024;
  execFileSync("cat", [file], { stdio: ["ignore", "ignore", "ignore"] }); // warm the page cache
  const time = (f: () => unknown) => {
    const t = process.hrtime.bigint();
    f();
    return ms(process.hrtime.bigint() - t) / 1000;
  };
  const adapter = createSqliteAdapter({ path: file });
  const t0 = process.hrtime.bigint();
  await adapter.backup(join(work, "bk"), "ours");
  const ours = ms(process.hrtime.bigint() - t0) / 1000;
  await adapter.close();
  const cp = time(() => execFileSync("cp", [file, join(work, "cp.sqlite")]));
  rows.push([
    `backup ${size.toFixed(0)} MB (MB/s, ours includes sha256)`,
    (size / ours).toFixed(0),
    `cp ${(size / cp).toFixed(0)}`,
    (cp / ours).toFixed(2),
  ]);
  try {
    const cli = time(() => execFileSync("sqlite3", [file, `.backup ${join(work, "cli.sqlite")}`]));
    rows.push([
      `backup ${size.toFixed(0)} MB (MB/s)`,
      (size / ours).toFixed(0),
      `sqlite3 .backup ${(size / cli).toFixed(0)}`,
      (cli / ours).toFixed(2),
    ]);
  } catch {
    rows.push(["backup vs sqlite3 .backup", "-", "sqlite3 not installed", "-"]);
  }
}

async function fullUpgrade() {
  const prepare = (dir: string, port: string) =>
    execFileSync(
      join(root, "examples/blog/prepare.sh"),
      [dir, "--authors", "200", "--posts-per-author", "50", "--comments-per-post", "10"],
      { env: { ...process.env, BLOG_PORT: port } },
    );
  const a = join(work, "ex-ours");
  prepare(a, "4391");
  const t0 = process.hrtime.bigint();
  const result = await upgrade(join(a, "upgrade.json"), { toVersion: "2.0.0" });
  const ours = ms(process.hrtime.bigint() - t0) / 1000;
  if (result.state !== "completed") throw new Error(`bench upgrade ended ${result.state}`);
  const stop = result.steps.find((s) => s.step === "stop")!;
  const health = result.steps.find((s) => s.step === "health")!;
  const downtime = (Date.parse(health.finishedAt!) - Date.parse(stop.startedAt!)) / 1000;
  execFileSync(join(a, "ctl.sh"), ["stop"], { env: { ...process.env, BLOG_PORT: "4391", BLOG_HOME: a } });
  const byHand = (name: string, port: string, migrate: string) => {
    const dir = join(work, name);
    prepare(dir, port);
    const env = { ...process.env, BLOG_PORT: port, BLOG_HOME: dir };
    const t = process.hrtime.bigint();
    execFileSync(
      "bash",
      [
        "-c",
        `set -e; cd ${dir}; ./ctl.sh stop; cp data/blog.sqlite data/blog.sqlite.bak; ./ctl.sh install 2.0.0; ${migrate}; ./ctl.sh start; until curl -fs http://127.0.0.1:${port}/health >/dev/null; do sleep 0.1; done`,
      ],
      { env, stdio: "ignore" },
    );
    const seconds = ms(process.hrtime.bigint() - t) / 1000;
    execFileSync(join(dir, "ctl.sh"), ["stop"], { env });
    return seconds;
  };
  // an expert by hand: the sqlite3 shell runs the migration file statement by statement (the
  // PRAGMA outside any transaction, so no cascade), plus the bookkeeping row the service checks
  const expert = byHand(
    "ex-sqlite3",
    "4392",
    `sqlite3 data/blog.sqlite < current/drizzle/0001_posts_created_at_not_null.sql; sqlite3 data/blog.sqlite "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('by-hand', 0)"`,
  );
  // the usual way: drizzle's own migrate() (one transaction: the rebuild cascades and deletes every comment)
  const drizzleWay = byHand(
    "ex-drizzle",
    "4393",
    `node --input-type=module -e "import D from 'better-sqlite3'; import { drizzle } from 'drizzle-orm/better-sqlite3'; import { migrate } from 'drizzle-orm/better-sqlite3/migrator'; migrate(drizzle(new D('data/blog.sqlite')), { migrationsFolder: 'current/drizzle' });"`,
  );
  rows.push([
    "example upgrade, whole run (s; 10k posts, 100k comments)",
    ours.toFixed(2),
    `by hand, sqlite3 shell ${expert.toFixed(2)}`,
    (ours / expert).toFixed(2),
  ]);
  rows.push([
    "example upgrade, whole run (s)",
    ours.toFixed(2),
    `by hand, drizzle migrate() ${drizzleWay.toFixed(2)} (comments lost)`,
    (ours / drizzleWay).toFixed(2),
  ]);
  rows.push(["example upgrade, downtime stop..healthy (s)", downtime.toFixed(2), "-", "-"]);
}

try {
  await journalAppend();
  await backupThroughput();
  await fullUpgrade();
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
} finally {
  rmSync(work, { recursive: true, force: true });
}
