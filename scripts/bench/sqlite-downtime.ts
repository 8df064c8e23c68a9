// SQLite, the example blog on a ~1 GB database: the downtime of an upgrade by upgrade-machine
// (the built CLI) against the by-hand procedure (stop, `cp`, the migration through the `sqlite3`
// shell, install, start, wait healthy, the same `ctl.sh check` as the upgrade's verify) on copies
// of the same data, to 2.0.0 (a table rebuild) and to 1.1.0 (a column added: the orchestration's
// own cost); the seal against the hot backup, with nothing written and with 1% of the posts
// rewritten between the hot backup and the stop; the adapter's copies against `cp` (alone, and
// with the fsync and sha256 ours does) and `sqlite3 .backup`.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSqliteAdapter } from "../../src/adapters/sqlite/index.js";
import { addCheapRelease, byHandMigration, CHEAP_RELEASE } from "./blog-releases.js";
import { type Downtime, downtimeOf, splitText } from "./downtime.js";
import { cli, historyEvents, ROOT, run, timed, waitHealthy } from "./proc.js";
import { type BenchRow, makeRow } from "./report.js";
import type { BlogData } from "./sqlite-data.js";

/** One installation of the example (prepare.sh), on its own port. */
interface Install {
  dir: string;
  port: number;
  ctl(...args: string[]): Promise<string>;
}

async function install(work: string, name: string, port: number): Promise<Install> {
  const dir = join(work, name);
  const env = { ...process.env, BLOG_PORT: String(port) };
  await run([join(ROOT, "examples/blog/prepare.sh"), dir, "--authors", "1", "--posts-per-author", "1", "--comments-per-post", "0"], {
    env,
  });
  const ctlEnv = { ...env, BLOG_HOME: dir };
  const ex: Install = { dir, port, ctl: (...args) => run([join(dir, "ctl.sh"), ...args], { env: ctlEnv }) };
  await ex.ctl("stop");
  addCheapRelease(dir);
  return ex;
}

/** Release 1.0.0 on a fresh copy of the data, no journal, running. */
async function reset(ex: Install, data: BlogData): Promise<void> {
  await ex.ctl("stop");
  await ex.ctl("install", "1.0.0");
  const db = join(ex.dir, "data", "blog.sqlite");
  for (const f of [db, `${db}-wal`, `${db}-shm`, join(ex.dir, ".upgrade")]) rmSync(f, { recursive: true, force: true });
  copyFileSync(data.file, db);
  await run(["sync", db]);
  writeFileSync(join(ex.dir, "min-rows.json"), `${JSON.stringify(data.rows)}\n`);
  await ex.ctl("start");
}

interface OursRun {
  downtime: Downtime;
  backup: number;
  seal: number;
}

/** A whole upgrade through the CLI; its downtime and the hot backup's and seal's seconds, from the journal. */
async function ours(ex: Install, config: string, to = "2.0.0"): Promise<OursRun> {
  const out = await cli(["run", "--config", config, "--to", to, "--json"], ex.dir);
  const events = await historyEvents(config, ex.dir);
  if (!events.some((e) => e.type === "run.completed"))
    throw new Error(`the benchmark's upgrade did not complete: ${JSON.stringify(events.at(-1))}`);
  const span = (step: string) => {
    const a = events.find((e) => e.type === "step.started" && e.step === step);
    const b = [...events].reverse().find((e) => e.type === "step.succeeded" && e.step === step);
    return (Date.parse(b?.at ?? "") - Date.parse(a?.at ?? "")) / 1000;
  };
  const downtime = downtimeOf(out);
  await ex.ctl("stop");
  return { downtime, backup: span("backup"), seal: span("seal") };
}

/**
 * The by-hand procedure, each part timed: stop, `cp`, the migration through the `sqlite3` shell,
 * install, `ctl.sh check` (the check upgrade-machine's verify runs, so both sides do the same
 * work), start, wait healthy.
 */
async function byHand(ex: Install, backupDir: string, to = "2.0.0"): Promise<Downtime> {
  const db = join(ex.dir, "data", "blog.sqlite");
  const steps: Record<string, number> = {};
  steps.stop = await timed(() => ex.ctl("stop"));
  steps.cp = await timed(() => run(["cp", db, join(backupDir, "blog.sqlite.bak")]));
  steps.migrate = await timed(async () => {
    for (const m of byHandMigration(ex.dir, to)) {
      await run(["sqlite3", db], { stdin: m.file });
      await run(["sqlite3", db, m.bookkeeping]);
    }
  });
  steps.install = await timed(() => ex.ctl("install", to));
  steps.check = await timed(() => ex.ctl("check"));
  steps.start = await timed(() => ex.ctl("start"));
  steps.health = await timed(() => waitHealthy(`http://127.0.0.1:${ex.port}/health`));
  const total = Object.values(steps).reduce((a, b) => a + b, 0);
  await ex.ctl("stop");
  rmSync(join(backupDir, "blog.sqlite.bak"), { force: true });
  return { total, steps };
}

/** Every SQLite row; `runs` repetitions, ours and by hand interleaved. */
export async function sqliteBench(work: string, data: BlogData, runs: number, ports: [number, number]): Promise<BenchRow[]> {
  const section = `SQLite ${(data.bytes / 2 ** 20).toFixed(0)} MB`;
  const a = await install(work, "ours", ports[0]);
  const b = await install(work, "by-hand", ports[1]);
  const clean = join(a.dir, "upgrade.json");
  const written = join(a.dir, "upgrade-written.json");
  const conf = JSON.parse(readFileSync(clean, "utf8"));
  const every = 100; // 1% of the posts
  conf.announce = {
    ...conf.announce,
    command: [process.execPath, join(import.meta.dirname, "rewrite-sqlite.mjs"), "./data/blog.sqlite", String(every)],
  };
  writeFileSync(written, JSON.stringify(conf, null, 2));
  const oursClean: OursRun[] = [];
  const oursWritten: OursRun[] = [];
  const oursCheap: OursRun[] = [];
  const hand: Downtime[] = [];
  const handCheap: Downtime[] = [];
  for (let i = 0; i < runs; i++) {
    console.error(`  ${section}: round ${i + 1}/${runs}`);
    await reset(a, data);
    oursClean.push(await ours(a, clean));
    await reset(b, data);
    hand.push(await byHand(b, work));
    await reset(a, data);
    oursWritten.push(await ours(a, written));
    await reset(a, data);
    oursCheap.push(await ours(a, clean, CHEAP_RELEASE));
    await reset(b, data);
    handCheap.push(await byHand(b, work, CHEAP_RELEASE));
  }
  const copies = await copyRows(work, data, runs, section);
  rmSync(a.dir, { recursive: true, force: true });
  rmSync(b.dir, { recursive: true, force: true });
  const dt = (xs: OursRun[]) => xs.map((x) => x.downtime.total);
  const handLabel = "by hand (stop, cp, sqlite3 migration, install, ctl.sh check, start)";
  return [
    makeRow({
      section,
      measure: `downtime, stop to healthy, cheap migration to ${CHEAP_RELEASE} (a column added; nothing written after the hot backup)`,
      unit: "s",
      ours: dt(oursCheap),
      baseline: { label: handLabel, values: handCheap.map((h) => h.total) },
      goal: { on: "ratio", op: "<=", limit: 0.35 },
      note: `ours: ${splitText(oursCheap.map((x) => x.downtime.steps))}; by hand: ${splitText(handCheap.map((h) => h.steps))}`,
    }),
    makeRow({
      section,
      measure: "downtime, stop to healthy, migration to 2.0.0 (a table rebuild; nothing written after the hot backup)",
      unit: "s",
      ours: dt(oursClean),
      baseline: { label: handLabel, values: hand.map((h) => h.total) },
      goal: { on: "ratio", op: "<=", limit: 0.35 },
      note: `ours: ${splitText(oursClean.map((x) => x.downtime.steps))}; by hand: ${splitText(hand.map((h) => h.steps))}`,
    }),
    makeRow({
      section,
      measure: "downtime, migration to 2.0.0, 1% of the posts rewritten after the hot backup",
      unit: "s",
      ours: dt(oursWritten),
      baseline: { label: "by hand", values: hand.map((h) => h.total) },
      note: `ours: ${splitText(oursWritten.map((x) => x.downtime.steps))}`,
    }),
    makeRow({
      section,
      measure: "seal, nothing written",
      unit: "s",
      ours: oursClean.map((x) => x.seal),
      baseline: { label: "hot backup step", values: oursClean.map((x) => x.backup) },
      goal: { on: "ratio", op: "<=", limit: 0.02 },
    }),
    makeRow({
      section,
      measure: "seal, 1% of the posts rewritten",
      unit: "s",
      ours: oursWritten.map((x) => x.seal),
      baseline: { label: "hot backup step", values: oursWritten.map((x) => x.backup) },
    }),
    ...copies,
  ];
}

/** The adapter's full copy (what the seal takes when the database changed) and hot backup, against `cp` and `sqlite3 .backup`. */
async function copyRows(work: string, data: BlogData, runs: number, section: string): Promise<BenchRow[]> {
  const out = join(work, "copies");
  const t = { full: [] as number[], cp: [] as number[], cpSyncHash: [] as number[], hot: [] as number[], shell: [] as number[] };
  const adapter = createSqliteAdapter({ path: data.file });
  try {
    for (let i = 0; i < runs; i++) {
      mkdirSync(out, { recursive: true, mode: 0o700 });
      t.full.push(await timed(() => adapter.backup(out, `full-${i}`)));
      t.cp.push(await timed(() => run(["cp", data.file, join(out, `cp-${i}.sqlite`)])));
      const copy = join(out, `cp-sync-hash-${i}.sqlite`);
      t.cpSyncHash.push(
        await timed(() => run(["sh", "-c", 'cp "$1" "$2" && sync "$2" && sha256sum "$2" >/dev/null', "sh", data.file, copy])),
      );
      t.hot.push(await timed(() => adapter.hotBackup(out, `hot-${i}`)));
      t.shell.push(await timed(() => run(["sqlite3", data.file, `.backup ${join(out, `shell-${i}.sqlite`)}`])));
      rmSync(out, { recursive: true, force: true });
    }
  } finally {
    await adapter.close();
  }
  return [
    makeRow({
      section,
      measure: "full copy of the stopped database (adapter backup, sha256 in the same pass)",
      unit: "s",
      ours: t.full,
      baseline: { label: "cp", values: t.cp },
      goal: { on: "ratio", op: "<=", limit: 1.1 },
    }),
    makeRow({
      section,
      measure: "full copy of the stopped database, against the same work by hand",
      unit: "s",
      ours: t.full,
      baseline: { label: "cp + sync + sha256sum (copy, fsync, hash)", values: t.cpSyncHash },
    }),
    makeRow({
      section,
      measure: "hot backup (adapter hotBackup)",
      unit: "s",
      ours: t.hot,
      baseline: { label: "sqlite3 .backup", values: t.shell },
      goal: { on: "ratio", op: "<=", limit: 1.0 },
    }),
  ];
}
