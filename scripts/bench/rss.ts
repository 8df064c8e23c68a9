// Peak memory (the kernel's maximum RSS of the process, from /usr/bin/time -v) of backup,
// fingerprint and restore through the built package, each in a process of its own, and of a whole
// upgrade run through the CLI whose seal must deal with writes made after the hot backup (1% of
// the rows rewritten by the announce command), on a SQLite and a PostgreSQL database.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shopMigrations } from "../../test/contract/targets.js";
import { ADMIN_URL, createScratchDatabase, execSql, querySql, urlFor } from "../../test/helpers/servers.js";
import { openAdapter } from "../../src/adapters/registry.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { CLI, run } from "./proc.js";
import { type BenchRow, makeRow } from "./report.js";
import { MB_PER_SCALE, shopSeed } from "./shop-data.js";

const CHILD = join(import.meta.dirname, "rss-child.mjs");
const GOAL = { on: "value" as const, op: "<" as const, limit: 200 };

/** Peak RSS in MB of `argv`, from GNU time's "Maximum resident set size". */
async function peakMb(argv: string[], cwd: string): Promise<number> {
  const out = join(cwd, "time.txt");
  await run(["/usr/bin/time", "-v", "-o", out, ...argv], { cwd });
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(out, "utf8"))?.[1];
  if (!kb) throw new Error(`no peak RSS in ${out}`);
  return Number(kb) / 1024;
}

/** backup, fingerprint, restore and a whole run with writes after the hot backup, on `url`, `runs` times each. */
async function peaks(url: string, dir: string, writes: string[], runs: number): Promise<Record<string, number[]>> {
  const config = join(dir, "upgrade.json");
  writeFileSync(
    config,
    JSON.stringify({ name: "rss", database: url, stateDir: "./.upgrade", announce: { command: writes, graceSeconds: 0 } }),
  );
  const out: Record<string, number[]> = { backup: [], fingerprint: [], restore: [], "upgrade run, seal after writes": [] };
  const node = process.execPath;
  for (let i = 0; i < runs; i++) {
    const work = join(dir, `op-${i}`);
    mkdirSync(work, { recursive: true, mode: 0o700 });
    out.backup!.push(await peakMb([node, CHILD, "backup", url, work], work));
    out.fingerprint!.push(await peakMb([node, CHILD, "fingerprint", url, work], work));
    out.restore!.push(await peakMb([node, CHILD, "restore", url, work], work));
    rmSync(work, { recursive: true, force: true });
    out["upgrade run, seal after writes"]!.push(await peakMb([node, CLI, "run", "--config", config, "--json"], dir));
    rmSync(join(dir, ".upgrade"), { recursive: true, force: true });
  }
  return out;
}

function rows(section: string, p: Record<string, number[]>): BenchRow[] {
  return Object.entries(p).map(([what, values]) =>
    makeRow({
      section,
      measure: `peak RSS, ${what}`,
      unit: "MB",
      ours: values,
      goal: GOAL,
      note: what.startsWith("upgrade") ? "the CLI process: preflight, hot backup, announce (rewrites 1% of the rows), seal" : undefined,
    }),
  );
}

/** SQLite: a copy of `file`. */
export async function sqliteRss(file: string, dir: string, runs: number): Promise<BenchRow[]> {
  const d = join(dir, "rss-sqlite");
  mkdirSync(d, { recursive: true });
  const db = join(d, "target.sqlite");
  cpSync(file, db);
  const mb = (await import("node:fs")).statSync(db).size / 2 ** 20;
  const writes = [process.execPath, join(import.meta.dirname, "rewrite-sqlite.mjs"), db, "100"];
  try {
    return rows(`SQLite ${mb.toFixed(0)} MB`, await peaks(`sqlite:${db}`, d, writes, runs));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** PostgreSQL: a shop database of about `mb` MB, dump strategy. */
export async function postgresRss(mb: number, dir: string, runs: number): Promise<BenchRow[]> {
  const d = join(dir, "rss-postgres");
  mkdirSync(d, { recursive: true });
  const db = await createScratchDatabase("postgres", `${process.env.BENCH_DB_PREFIX ?? "um_sd_bench"}_rss`);
  try {
    const adapter = await openAdapter(parseDatabaseUrl(db.url, d));
    try {
      await runMigrations(adapter.migrationDriver(), shopMigrations("pg"));
    } finally {
      await adapter.close();
    }
    await execSql("postgres", db.url, shopSeed("postgres", mb / MB_PER_SCALE.postgres));
    const [size] = await querySql<{ b: string }>("postgres", ADMIN_URL.postgres, [`SELECT pg_database_size('${db.name}')::text AS b`]);
    const t = new URL(urlFor("postgres", db.name));
    const writes = [
      "psql",
      "-X",
      "-q",
      "-h",
      t.hostname,
      "-p",
      t.port || "5432",
      "-U",
      decodeURIComponent(t.username || "postgres"),
      "-d",
      db.name,
      "-c",
      "UPDATE orders SET total_cents = total_cents + 1 WHERE id % 100 = 0",
    ];
    return rows(`PostgreSQL ${(Number(size?.b) / 2 ** 20).toFixed(0)} MB`, await peaks(db.url, d, writes, runs));
  } finally {
    await db.drop();
    rmSync(d, { recursive: true, force: true });
  }
}
