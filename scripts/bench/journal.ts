/**
 * Measurements of the journal, importable by `scripts/bench.ts` (each returns numbers, prints
 * nothing) and runnable alone: `node --import jiti/register scripts/bench/journal.ts [dir]`.
 *   - appendLatency: our append (hash chain, head and lease fencing) vs a bare better-sqlite3
 *     INSERT of the same durability (WAL, synchronous=FULL), in the same folder;
 *   - replayTime: the fold of one run of 10,000 events (replay after a crash, `status`);
 *   - viewFirstOpen: the live view's server, from a page's connection to `/events` to the whole
 *     run received (the rows the page renders), on a run of 10,000 events.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FORWARD_STEPS, type Json } from "../../machines/index.js";
import { eventHash } from "../../src/journal/hash.js";
import { RunJournal } from "../../src/journal/journal.js";
import { openJournal } from "../../src/journal/open.js";
import type { JournalEvent, JournalStore } from "../../src/journal/types.js";
import { foldJournal } from "../../src/runner/fold.js";
import { startViewServer } from "../../src/view/server.js";

const require = createRequire(import.meta.url);
const ms = (ns: bigint) => Number(ns) / 1e6;

/** The p-th percentile of `xs` (nearest rank). */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Latencies of one kind of append, in milliseconds. */
export interface Latency {
  p50: number;
  p99: number;
}

/** Our append against a bare insert, with the ratios (ours / bare). */
export interface AppendLatency {
  n: number;
  ours: Latency;
  bare: Latency;
  ratioP50: number;
  ratioP99: number;
}

async function withDir<T>(dir: string | undefined, fn: (dir: string) => Promise<T>): Promise<T> {
  const work = mkdtempSync(join(dir ?? tmpdir(), "um-bench-journal-"));
  try {
    return await fn(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `n` appends through `RunJournal` (fenced by a held lease, as the runner appends) and `n` bare
 * INSERTs of the same row into a table with the same primary key, both WAL + synchronous=FULL,
 * interleaved in rounds so both see the same disk. In `dir` (default the OS temp folder: a real
 * disk, where fsync costs what it costs).
 */
export async function appendLatency(options: { n?: number; dir?: string } = {}): Promise<AppendLatency> {
  const n = options.n ?? 2000;
  return withDir(options.dir, async (work) => {
    const store = await openJournal(`sqlite:${join(work, "journal.sqlite")}`, work);
    const target = "bench-target";
    await store.acquireLease({ target, owner: "bench", runId: "bench", host: "h", pid: process.pid, process: null }, 600_000, () => false);
    const journal = (
      await RunJournal.create(store, { runId: "bench", target, name: "bench", createdAt: new Date().toISOString() }, {})
    ).fenceWith({ target, owner: "bench" });
    const Database = require("better-sqlite3");
    const raw = new Database(join(work, "raw.sqlite"));
    raw.pragma("journal_mode = WAL");
    raw.pragma("synchronous = FULL");
    raw.exec(
      "CREATE TABLE e (run_id text, seq integer, type text, step text, payload text, at text, hash text, PRIMARY KEY (run_id, seq))",
    );
    const ins = raw.prepare("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?)");
    const ours: number[] = [];
    const bare: number[] = [];
    try {
      for (let i = 0; i < n; i++) {
        let t = process.hrtime.bigint();
        await journal.append({ type: "step.started", step: "migrate", payload: { attempt: i } });
        ours.push(ms(process.hrtime.bigint() - t));
        t = process.hrtime.bigint();
        ins.run("r", i, "step.started", "migrate", JSON.stringify({ attempt: i }), new Date().toISOString(), "x".repeat(64));
        bare.push(ms(process.hrtime.bigint() - t));
      }
    } finally {
      raw.close();
      await store.close();
    }
    const o = { p50: percentile(ours, 50), p99: percentile(ours, 99) };
    const b = { p50: percentile(bare, 50), p99: percentile(bare, 99) };
    return { n, ours: o, bare: b, ratioP50: o.p50 / b.p50, ratioP99: o.p99 / b.p99 };
  });
}

/**
 * The events of one run that crash-looped in migrate: the forward steps, migrate started again
 * and again, then completed; `total` events, hash-chained, one second apart.
 */
export function crashLoopRun(runId: string, total: number, start = Date.UTC(2025, 0, 1)): JournalEvent[] {
  const events: JournalEvent[] = [];
  let t = start;
  const push = (type: JournalEvent["type"], step: JournalEvent["step"], payload: { [key: string]: Json }) => {
    const body = { runId, seq: events.length, type, step, payload, at: new Date((t += 1000)).toISOString() };
    events.push({ ...body, hash: eventHash(events[events.length - 1]?.hash ?? "", body) });
  };
  push("run.requested", null, { target: "sqlite:/bench/target.sqlite", toVersion: "2.0.0", name: "bench" });
  const extra = total - (FORWARD_STEPS.length * 2 + 2);
  for (const step of FORWARD_STEPS) {
    const repeats = step === "migrate" ? Math.max(0, extra) + 1 : 1;
    for (let a = 1; a <= repeats; a++) push("step.started", step, { attempt: a });
    const output =
      step === "preflight"
        ? { fromVersion: "1.0.0", toVersion: "2.0.0" }
        : { step, path: `/var/backups/${runId}/${step}`, bytes: 123456, sha256: "ab".repeat(32) };
    push("step.succeeded", step, { output });
  }
  push("run.completed", null, { fromVersion: "1.0.0", toVersion: "2.0.0" });
  return events;
}

/** CPU milliseconds (user + system) this process spent since `start` (a `process.cpuUsage()`). */
function cpuMs(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

/**
 * Milliseconds to fold a run of `events` events (median of `rounds`, the first, cold, round not
 * counted): wall time, and CPU time, which a machine shared with other work disturbs less.
 */
export async function replayTime(
  options: { events?: number; rounds?: number } = {},
): Promise<{ events: number; medianMs: number; minMs: number; medianCpuMs: number }> {
  const events = crashLoopRun("replay", options.events ?? 10_000);
  const times: number[] = [];
  const cpu: number[] = [];
  const rounds = options.rounds ?? 5;
  for (let i = 0; i <= rounds; i++) {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    const snapshot = foldJournal(events);
    const took = ms(process.hrtime.bigint() - t);
    const tookCpu = cpuMs(c);
    if (snapshot.value !== "completed") throw new Error(`replay ended in ${String(snapshot.value)}`);
    if (i === 0) continue;
    times.push(took);
    cpu.push(tookCpu);
  }
  return { events: events.length, medianMs: percentile(times, 50), minMs: Math.min(...times), medianCpuMs: percentile(cpu, 50) };
}

async function writeRun(store: JournalStore, events: readonly JournalEvent[]): Promise<void> {
  const [first, ...rest] = events;
  await store.createRun({ runId: first!.runId, target: "sqlite:/bench/target.sqlite", name: "bench", createdAt: first!.at }, first!);
  for (const e of rest) await store.append(e);
}

/** Milliseconds from a page's connection to `/events` until its `run` event (every row) arrived. */
function firstRun(url: string): Promise<{ ms: number; cpuMs: number; bytes: number }> {
  const u = new URL(url);
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const req = request(new URL(`/events?token=${u.searchParams.get("token")}`, u), (res) => {
      const marker = "event: run\n";
      let buf = "";
      let at = -1;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const before = buf.length;
        buf += chunk;
        // Only the new text is searched: a rescan of the whole buffer per chunk was quadratic (the client's own time).
        if (at < 0) at = buf.indexOf(marker, Math.max(0, before - marker.length));
        if (at >= 0 && buf.indexOf("\n\n", Math.max(at, before - 1)) >= 0) {
          resolve({ ms: ms(process.hrtime.bigint() - t), cpuMs: cpuMs(c), bytes: buf.length });
          req.destroy();
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * The live view's first open of a run of `events` events: a fresh server each round (nothing
 * read yet), timed from a page's `/events` connection to the whole run received: wall time, and
 * the CPU time of this process (server and client) meanwhile. The journal is a SQLite file in
 * `dir` (default /dev/shm, as scripts/bench-view.mjs does). The browser's rendering is not
 * included: scripts/bench-view.mjs measures it, with Chromium.
 */
export async function viewFirstOpen(options: { events?: number; rounds?: number; dir?: string } = {}): Promise<{
  events: number;
  medianMs: number;
  maxMs: number;
  medianCpuMs: number;
  bytes: number;
}> {
  const total = options.events ?? 10_000;
  return withDir(options.dir ?? "/dev/shm", async (work) => {
    const store = await openJournal(`sqlite:${join(work, "view.sqlite")}`, work);
    try {
      await writeRun(store, crashLoopRun("view", total));
      const times: number[] = [];
      const cpu: number[] = [];
      let bytes = 0;
      for (let i = 0; i < (options.rounds ?? 3); i++) {
        const server = await startViewServer({ store, target: "sqlite:/bench/target.sqlite", name: "bench", pollMs: 60_000 });
        try {
          const got = await firstRun(server.url);
          times.push(got.ms);
          cpu.push(got.cpuMs);
          bytes = got.bytes;
        } finally {
          await server.close();
        }
      }
      return { events: total, medianMs: percentile(times, 50), maxMs: Math.max(...times), medianCpuMs: percentile(cpu, 50), bytes };
    } finally {
      await store.close();
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  console.log("append", JSON.stringify(await appendLatency(dir ? { dir } : {})));
  console.log("replay", JSON.stringify(await replayTime()));
  console.log("view", JSON.stringify(await viewFirstOpen()));
}
