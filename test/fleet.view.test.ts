// The fleet page: a real fleet of service-less blog targets on a journal database of the local
// PostgreSQL (its URL carrying a password), a rollout driven by the built CLI in another process
// (frozen with SIGSTOP while the canary runs), and the real HTTP server of the page: its HTML, its
// JSON (the same as `fleet status --json`) and its live stream, followed without a reload.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFleetStore } from "../src/adapters/registry.js";
import { loadFleet } from "../src/fleet/load.js";
import type { RolloutStatus } from "../src/fleet/status.js";
import type { FleetStore } from "../src/fleet/store.js";
import { assetsDir } from "../src/view/assets.js";
import { FleetFeed } from "../src/view/fleet-feed.js";
import { fleetGrid } from "../src/view/fleet-page.js";
import { openFleetView } from "../src/view/open-fleet.js";
import { targetKeys } from "../src/fleet/drive-target.js";
import type { ViewServer } from "../src/view/http.js";
import { CLI, runCli } from "./helpers/example.js";
import { blogTemplate, journalDatabase, removeDir, serviceLessTarget, tempDir, writeFleet } from "./helpers/fleet.js";
import { type Stream, firstLine, get, stream, targetStates, until } from "./helpers/fleet-view.js";

/** A feed over the real fleet store that notes every read of rollout events. */
async function countingFeed(): Promise<{ feed: FleetFeed; reads: string[]; close(): Promise<void> }> {
  const fleet = await loadFleet(file);
  const real = await openFleetStore(fleet.journalTarget);
  const reads: string[] = [];
  const store: FleetStore = Object.assign(Object.create(real) as FleetStore, {
    events: (id: string) => (reads.push("events"), real.events(id)),
    eventsAfter: (id: string, seq: number) => (reads.push(`after ${seq}`), real.eventsAfter(id, seq)),
  });
  return { feed: new FleetFeed(store, fleet, await targetKeys(fleet), null), reads, close: () => real.close() };
}

const SECRET = "S3cret-view-PW";
const STATES = ["pending", "running", "completed", "rolledBack", "aborted", "failed"] as const;
let dir: string;
let journal: Awaited<ReturnType<typeof journalDatabase>>;
let file: string;
let view: ViewServer;
const bodies: string[] = []; // every answer the page's server gave, for the secret check

beforeAll(async () => {
  dir = tempDir("view");
  journal = await journalDatabase("view");
  const template = await blogTemplate(dir, 4820);
  for (const [i, broken] of [false, false, true].entries()) serviceLessTarget(template, join(dir, "fleet", `t${i}`), broken);
  file = writeFleet(join(dir, "fleet"), {
    name: "blogs",
    journal: journal.url.replace("postgres@", `postgres:${SECRET}@`), // trust auth: the password is carried, never checked
    targets: ["./*/upgrade.json"],
    waves: [{ size: 1 }, { rest: true }],
    maxParallel: 2,
    failureThreshold: 1,
  });
  view = await openFleetView(file, { port: 4821, pollMs: 100 });
}, 120_000);
afterAll(async () => {
  await view?.close();
  await journal?.drop();
  if (dir) removeDir(dir);
});

const at = (path: string, params: Record<string, string> = {}) =>
  `${new URL(path, view.url).href}?${new URLSearchParams({ token: view.token, ...params })}`;
const fetchText = async (path: string, params?: Record<string, string>) => get(at(path, params), bodies);
const apiStatus = async () => JSON.parse((await fetchText("/api/status")).body) as RolloutStatus;

describe("fleet view: the page of a rollout", () => {
  it("answers 403 without the token, and shows that there is no rollout yet", async () => {
    expect((await fetch(new URL("/api/status", view.url))).status).toBe(403);
    expect((await fetch(new URL("/target/t0/api/runs?token=nope", view.url))).status).toBe(403);
    expect(JSON.parse((await fetchText("/api/status")).body)).toEqual({ rollout: null, state: "none" });
    expect((await fetchText("/")).body).toContain(`data-state="none">no rollout yet`);
  });

  it("shows waves and targets coloured by state, the running target's run, and follows the rollout live without a reload", async () => {
    const live: Stream = stream(at("/events"));
    const child: ChildProcess = spawn(process.execPath, [CLI, "fleet", "run", "--fleet", file, "--to", "2.0.0", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const counted = await countingFeed();
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d));
    const exit = new Promise<number | null>((r) => child.on("close", r));
    try {
      // The canary's run has journaled its first step: freeze the worker there.
      const started = JSON.parse(await firstLine(child, (l) => l.includes(`"step.started"`) && l.includes(`"target":"t0"`)));
      child.kill("SIGSTOP");
      const runId = String(started.runId);
      const [row] = await journal.sql`SELECT run_id FROM upgrade_machine_runs ORDER BY created_at DESC LIMIT 1`;
      expect(row?.run_id).toBe(runId);

      const running = await apiStatus();
      expect(running.state).toBe("running");
      expect(running.targets.map((t) => [t.name, t.wave, t.state, t.runId])).toEqual([
        ["t0", 0, "running", runId],
        ["t1", 1, "pending", null],
        ["t2", 1, "pending", null],
      ]);
      // `fleet status --json` prints the very same object (one function makes both).
      const cli = await runCli(["fleet", "status", "--fleet", file, "--json"]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(JSON.parse(cli.stdout)).toEqual(running);
      // The feed reads the rollout whole once, then nothing while its last seq stays.
      const frozen = await counted.feed.snapshot();
      expect(frozen!.status).toEqual(running);
      expect(await counted.feed.snapshot()).toEqual(frozen);
      expect(counted.reads).toEqual(["events"]);

      const page = (await fetchText("/")).body;
      expect(page).toContain(`<tr class="wave wave-open" data-wave="0">`);
      expect(page).toContain(`<tr class="wave wave-pending" data-wave="1">`);
      expect(targetStates(page)).toEqual({ t0: "running", t1: "pending", t2: "pending" });
      const link = new RegExp(`<a class="cell state-running" data-target="t0" [^>]*data-run="${runId}" href="([^"]+)"`).exec(page);
      expect(link, page).not.toBeNull();
      const href = link![1]!.replaceAll("&#38;", "&");
      expect(href).toBe(`target/t0/?token=${view.token}&run=${runId}`);
      expect(page).not.toMatch(/data-target="t1"[^>]*href=/); // no run: no link

      // The link opens the target's run view, pinned to its run, served below /target/t0/.
      expect((await get(new URL(href, view.url).toString(), bodies)).body).toContain(`<script type="module" src="assets/view.js?token=`);
      const detail = JSON.parse((await fetchText(`/target/t0/api/run/${runId}`)).body);
      expect([detail.run.runId, detail.run.state]).toEqual([runId, "running"]);
      expect((await fetchText("/target/t0/assets/view.js")).status).toBe(200);
      expect((await fetchText("/target/nope/api/runs")).status).toBe(404);

      // The stream, connected before the rollout started, has delivered the running canary.
      await until("the stream shows t0 running", () => live.statuses().some((s) => s?.targets[0]?.runId === runId));

      child.kill("SIGCONT");
      expect(await exit, stderr).toBe(0);
      const end = await apiStatus();
      expect([end.state, ...end.targets.map((t) => t.state)]).toEqual(["completed", "completed", "completed", "rolledBack"]);
      // The same stream (never reconnected) delivers each change up to the end, seq rising.
      await until("the stream shows the end", () => JSON.stringify(live.statuses().at(-1)) === JSON.stringify(end));
      const seqs = live.events("status").map((e) => e.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(targetStates(String(live.events("status").at(-1)!.html))).toEqual({ t0: "completed", t1: "completed", t2: "rolledBack" });
      expect(targetStates((await fetchText("/")).body)).toEqual({ t0: "completed", t1: "completed", t2: "rolledBack" });
      expect(end.targets.every((t) => t.runId)).toBe(true);
      // Then only the events after the last seq it held; its status equals a fresh read.
      expect((await counted.feed.snapshot())!.status).toEqual(end);
      expect(counted.reads).toEqual(["events", `after ${frozen!.seq}`]);
    } finally {
      await counted.close();
      if (child.exitCode === null) child.kill("SIGKILL");
      bodies.push(live.close());
    }
  }, 180_000);

  it("gives every target state its own colour, and each cell the class of its state", () => {
    const css = readFileSync(join(assetsDir(), "fleet.css"), "utf8");
    const colours = STATES.map((s) => new RegExp(`\\.cell\\.state-${s} \\{ background: (#[0-9a-f]{6});`).exec(css)?.[1]);
    expect(colours.every(Boolean), css).toBe(true);
    expect(new Set(colours).size).toBe(STATES.length);
    const status: RolloutStatus = {
      rollout: "r1",
      state: "running",
      ending: null,
      toVersion: "2.0.0",
      waves: [{ wave: 0, targets: STATES.map((s) => `<${s}>`), threshold: 0, state: "open" }],
      targets: STATES.map((s) => ({ name: `<${s}>`, config: "/c", wave: 0, state: s, runId: s === "pending" ? null : `run-${s}` })),
    };
    const html = fleetGrid(status, "tok");
    expect(targetStates(html)).toEqual(Object.fromEntries(STATES.map((s) => [`&#60;${s}&#62;`, s])));
    expect(html).not.toContain("<pending>"); // names are escaped
  });

  it("serves the page from the built CLI, and never shows the journal's password", async () => {
    const child = spawn(process.execPath, [CLI, "fleet", "view", "--fleet", file, "--port", "4822", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const printed = JSON.parse(await firstLine(child, () => true));
      expect([printed.type, printed.port]).toEqual(["fleet-view", 4822]);
      const url = new URL(printed.url);
      const status = await get(`${url.origin}/api/status?token=${url.searchParams.get("token")}`, bodies);
      expect(JSON.parse(status.body)).toEqual(await apiStatus());
      const exited = new Promise<number | null>((r) => child.once("exit", r));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    for (const path of ["/", "/assets/fleet.js", "/assets/fleet.css", "/target/t0/", "/target/t0/api/runs"]) await fetchText(path);
    expect(bodies.length).toBeGreaterThan(15);
    expect(bodies.filter((b) => b.includes(SECRET))).toEqual([]);
  }, 60_000);
});
