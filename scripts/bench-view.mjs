#!/usr/bin/env node
// How long the live view takes to load a journal of 10,000 events, in Debian's chromium:
//   A. one run of 10,000 events (a crash loop: migrate started again and again);
//   B. 417 completed runs of 24 events each (10,008 events; the page shows the newest run).
// For each: the page opened cold (the server has read nothing yet) and warm (cached), from
// navigation to the events table filled. Usage: node scripts/bench-view.mjs [--events N]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createJiti } from "jiti";
import { chromium } from "playwright-core";

const { values } = parseArgs({
  options: { events: { type: "string", default: "10000" }, chromium: { type: "string", default: "/usr/bin/chromium" } },
});
const TOTAL = Number(values.events);
const jiti = createJiti(import.meta.url);
const { openJournal } = await jiti.import("../src/journal/open.ts");
const { RunJournal } = await jiti.import("../src/journal/journal.ts");
const { startViewServer } = await jiti.import("../src/view/server.ts");
const { FORWARD_STEPS } = await jiti.import("../machines/index.ts");

const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
const dir = mkdtempSync(join(base, "um-bench-view-"));
const TARGET = "sqlite:/bench/target.sqlite";

/** Appends a run: the forward steps, `extraStarts` more starts of migrate, then completed. */
async function writeRun(store, runId, start, extraStarts) {
  let t = start;
  const next = () => new Date((t += 1000));
  const j = await RunJournal.create(
    store,
    { runId, target: TARGET, name: "bench", createdAt: new Date(t).toISOString() },
    { target: TARGET, toVersion: "2.0.0", name: "bench" },
    new Date(t),
  );
  for (const step of FORWARD_STEPS) {
    const repeats = step === "migrate" ? extraStarts + 1 : 1;
    for (let a = 1; a <= repeats; a++) await j.append({ type: "step.started", step, payload: { attempt: a } }, next());
    const output =
      step === "preflight"
        ? { fromVersion: "1.0.0", toVersion: "2.0.0" }
        : { step, path: `/var/backups/${runId}/${step}`, bytes: 123456, sha256: "ab".repeat(32) };
    await j.append({ type: "step.succeeded", step, payload: { output } }, next());
  }
  await j.append({ type: "run.completed", payload: { fromVersion: "1.0.0", toVersion: "2.0.0" } }, next());
  return j.events.length;
}

async function measure(label, store, expectedRows, browser) {
  const server = await startViewServer({ store, target: TARGET, name: "bench" });
  const times = [];
  try {
    for (let i = 0; i < 4; i++) {
      const page = await browser.newPage();
      const t0 = performance.now();
      await page.goto(server.url);
      await page.waitForFunction((n) => document.body.dataset.ready === "1" && Number(document.body.dataset.rows) === n, expectedRows, {
        timeout: 120_000,
      });
      times.push(performance.now() - t0);
      await page.close();
    }
  } finally {
    await server.close();
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  console.log(
    `${label}: ${expectedRows} rows on the page; cold ${times[0].toFixed(0)} ms, warm median ${warm[1].toFixed(0)} ms (${warm.map((t) => t.toFixed(0)).join(", ")})`,
  );
}

const browser = await chromium.launch({
  executablePath: values.chromium,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const perRun = FORWARD_STEPS.length * 2 + 2;
  const a = await openJournal(`sqlite:${join(dir, "a.sqlite")}`, dir);
  let t = performance.now();
  const n = await writeRun(a, "run-a", Date.UTC(2025, 0, 1), TOTAL - perRun);
  console.log(`A. one run of ${n} events written in ${(performance.now() - t).toFixed(0)} ms`);
  await measure("A. one run of 10,000 events", a, n, browser);
  await a.close();

  const b = await openJournal(`sqlite:${join(dir, "b.sqlite")}`, dir);
  t = performance.now();
  const runs = Math.ceil(TOTAL / perRun);
  let last = 0;
  for (let r = 0; r < runs; r++) last = await writeRun(b, `run-b-${String(r).padStart(4, "0")}`, Date.UTC(2025, 0, 1) + r * 3_600_000, 0);
  console.log(`B. ${runs} runs, ${runs * perRun} events written in ${(performance.now() - t).toFixed(0)} ms`);
  await measure(`B. ${runs} runs of ${perRun} events`, b, last, browser);
  await b.close();
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
