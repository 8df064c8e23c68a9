// The journal's figures: an append (hash chain, fencing, synchronous=FULL through drizzle)
// against a bare better-sqlite3 INSERT of the same durability; the replay (the pure fold) of a
// run of 10,000 events and the status path (read, verify the chain, fold); the live view's first
// open of that run, over HTTP on a fresh server (the page, the graph, and the event stream until
// the run's rows arrived; the browser's drawing is not included).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { FORWARD_STEPS, type Json } from "../../machines/index.js";
import { RunJournal } from "../../src/journal/journal.js";
import { openJournal } from "../../src/journal/open.js";
import type { JournalStore } from "../../src/journal/types.js";
import { foldJournal } from "../../src/runner/fold.js";
import { startViewServer } from "../../src/view/server.js";
import { type BenchRow, makeRow } from "./report.js";
import { percentile } from "./stats.js";

const require = createRequire(import.meta.url);
const TARGET = "sqlite:/bench/target.sqlite";
const ms = (t0: number) => performance.now() - t0;

/** p50 and p99 of `n` appends, ours and bare, in ms. */
async function appendRound(dir: string, round: number, n: number): Promise<{ ours: number[]; bare: number[] }> {
  const store = await openJournal(`sqlite:${join(dir, `journal-${round}.sqlite`)}`, dir);
  const journal = await RunJournal.create(store, { runId: "bench", target: "t", name: "bench", createdAt: new Date().toISOString() }, {});
  const ours: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await journal.append({ type: "step.started", step: "migrate", payload: { attempt: i } });
    ours.push(ms(t0));
  }
  await store.close();
  const Database = require("better-sqlite3");
  const raw = new Database(join(dir, `bare-${round}.sqlite`));
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = FULL");
  raw.exec("CREATE TABLE e (run_id text, seq integer, type text, step text, payload text, at text, hash text, PRIMARY KEY (run_id, seq))");
  const ins = raw.prepare("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?)");
  const bare: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    ins.run("r", i, "step.started", "migrate", JSON.stringify({ attempt: i }), new Date().toISOString(), "x".repeat(64));
    bare.push(ms(t0));
  }
  raw.close();
  return { ours, bare };
}

/** A run of `total` events: the forward steps with migrate started again and again (a crash loop), then completed. */
async function writeRun(store: JournalStore, total: number): Promise<number> {
  let t = Date.UTC(2025, 0, 1);
  const next = () => new Date((t += 1000));
  const j = await RunJournal.create(
    store,
    { runId: "run-a", target: TARGET, name: "bench", createdAt: new Date(t).toISOString() },
    {
      target: TARGET,
      toVersion: "2.0.0",
      name: "bench",
    },
  );
  const extra = total - (FORWARD_STEPS.length * 2 + 2);
  for (const step of FORWARD_STEPS) {
    const repeats = step === "migrate" ? extra + 1 : 1;
    for (let a = 1; a <= repeats; a++) await j.append({ type: "step.started", step, payload: { attempt: a } }, next());
    const output: Json =
      step === "preflight"
        ? { fromVersion: "1.0.0", toVersion: "2.0.0" }
        : { step, path: `/var/backups/run-a/${step}`, bytes: 123456, sha256: "ab".repeat(32) };
    await j.append({ type: "step.succeeded", step, payload: { output } }, next());
  }
  await j.append({ type: "run.completed", payload: { fromVersion: "1.0.0", toVersion: "2.0.0" } }, next());
  return j.events.length;
}

/** Milliseconds from the first request of a fresh view server to the whole run received on its event stream. */
async function viewOpen(store: JournalStore, count: number): Promise<number> {
  const server = await startViewServer({ store, target: TARGET, name: "bench" });
  try {
    const base = new URL(server.url);
    const get = (path: string) => fetch(new URL(`${path}?token=${server.token}`, base)).then((r) => r.text());
    const t0 = performance.now();
    await get("/");
    await get("/api/graph");
    const res = await fetch(new URL(`/events?token=${server.token}`, base));
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const marker = "event: run\ndata: ";
    let text = "";
    let at = -1;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the event stream ended before the run arrived");
      const before = text.length;
      text += decoder.decode(value, { stream: true });
      // Only the new text is searched (a rescan of the whole buffer per chunk was quadratic: the client's own time).
      if (at < 0) at = text.indexOf(marker, Math.max(0, before - marker.length));
      const end = at >= 0 ? text.indexOf("\n\n", Math.max(at, before - 1)) : -1;
      if (end >= 0) {
        const detail = JSON.parse(text.slice(at + "event: run\ndata: ".length, end)) as { rows: unknown[] };
        if (detail.rows.length !== count) throw new Error(`the view sent ${detail.rows.length} rows of ${count}`);
        break;
      }
    }
    const took = ms(t0);
    await reader.cancel();
    return took;
  } finally {
    await server.close();
  }
}

/** Every journal row, `runs` rounds each. */
export async function journalBench(dir: string, runs: number, appends = 1000, events = 10_000): Promise<BenchRow[]> {
  const section = "journal";
  const p = { o50: [] as number[], o99: [] as number[], b50: [] as number[], b99: [] as number[] };
  for (let r = 0; r < runs; r++) {
    const { ours, bare } = await appendRound(dir, r, appends);
    p.o50.push(percentile(ours, 50));
    p.o99.push(percentile(ours, 99));
    p.b50.push(percentile(bare, 50));
    p.b99.push(percentile(bare, 99));
  }
  // The 10,000-event run is read, not timed while written: it is written on tmpfs when there is one.
  const shm = existsSync("/dev/shm") ? mkdtempSync(join("/dev/shm", "um-sd-bench-")) : dir;
  const store = await openJournal(`sqlite:${join(shm, "run-10k.sqlite")}`, shm);
  const fold: number[] = [];
  const status: number[] = [];
  const view: number[] = [];
  const foldCpu: number[] = [];
  const viewCpu: number[] = [];
  const cpuMs = (c: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(c);
    return (d.user + d.system) / 1000;
  };
  try {
    const count = await writeRun(store, events);
    const read = await store.read("run-a");
    for (let r = 0; r < runs; r++) {
      let t0 = performance.now();
      let c0 = process.cpuUsage();
      foldJournal(read);
      fold.push(ms(t0));
      foldCpu.push(cpuMs(c0));
      t0 = performance.now();
      foldJournal((await RunJournal.open(store, "run-a")).events);
      status.push(ms(t0));
      c0 = process.cpuUsage();
      view.push(await viewOpen(store, count));
      viewCpu.push(cpuMs(c0));
    }
  } finally {
    await store.close();
    if (shm !== dir) rmSync(shm, { recursive: true, force: true });
  }
  const bare = "bare better-sqlite3 INSERT, WAL, synchronous=FULL";
  return [
    makeRow({ section, measure: `append p50 (n=${appends} per round)`, unit: "ms", ours: p.o50, baseline: { label: bare, values: p.b50 } }),
    makeRow({
      section,
      measure: `append p99 (n=${appends} per round)`,
      unit: "ms",
      ours: p.o99,
      baseline: { label: bare, values: p.b99 },
      goal: { on: "ratio", op: "<=", limit: 2 },
    }),
    makeRow({ section, measure: `replay: fold of ${events} events`, unit: "ms", ours: fold, goal: { on: "value", op: "<=", limit: 100 } }),
    makeRow({
      section,
      measure: `replay: CPU time of the fold of ${events} events`,
      unit: "ms",
      ours: foldCpu,
      note: "what the fold costs whatever else the machine runs: its wall time on an idle machine",
    }),
    makeRow({ section, measure: `status path: read, verify the chain, fold ${events} events`, unit: "ms", ours: status }),
    makeRow({
      section,
      measure: `live view, first open of a ${events}-event run (HTTP, fresh server)`,
      unit: "ms",
      ours: view,
      goal: { on: "value", op: "<=", limit: 500 },
      note: "page + /api/graph + the event stream until the run's rows arrived; the browser's drawing not included (npm run bench:view measures it in chromium)",
    }),
    makeRow({
      section,
      measure: `live view, first open of a ${events}-event run: CPU time (server and client, one process)`,
      unit: "ms",
      ours: viewCpu,
      note: "the view's server and the benchmark's HTTP client run in this one process: the CPU both spend, whatever else the machine runs",
    }),
  ];
}
