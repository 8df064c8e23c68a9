import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { STEP_NAMES, type StepName } from "../machines/index.js";
import { loadConfig } from "../src/config/load.js";
import type { ResolvedConfig } from "../src/config/types.js";
import { UpgradeError } from "../src/errors.js";
import { machineGraph } from "../src/graph/machine-graph.js";
import { openJournal } from "../src/journal/open.js";
import type { JournalStore } from "../src/journal/types.js";
import { startRun } from "../src/runner/runner.js";
import type { RunResult } from "../src/runner/result.js";
import type { StepEffects } from "../src/steps/types.js";
import { targetId } from "../src/url.js";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = resolve(import.meta.dirname, "..");
const ARTIFACTS = join(ROOT, "test-artifacts");
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`\n*** SKIPPING the live view's browser test: ${CHROMIUM} is missing (apt-get install chromium). CI runs it. ***\n`);
}

/** The path of the run below: forward until migrate fails, then the whole rollback chain. */
const PATH: StepName[] = [
  "preflight",
  "backup",
  "lint",
  "rehearse",
  "announce",
  "grace",
  "stop",
  "seal",
  "upgradePackage",
  "migrate",
  "stopNewVersion",
  "restoreDatabase",
  "restoreFiles",
  "reinstallPrevious",
  "startPrevious",
  "verifyRestore",
];

describe.skipIf(!haveChromium && !process.env.CI)("the live view in Debian's chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "um-view-"));
  const profile = mkdtempSync(join(tmpdir(), "um-chromium-")); // an empty --user-data-dir
  const configPath = join(dir, "upgrade.json");
  const requests: string[] = [];
  const gates = new Map<StepName, () => void>();
  let config: ResolvedConfig;
  let store: JournalStore;
  let cli: ChildProcess;
  let view: { url: string; token: string };
  let context: BrowserContext;
  let page: Page;

  // Each step's effect waits until the test opens its gate, so the run stands still on it.
  const steps = {} as StepEffects;
  for (const step of STEP_NAMES) {
    steps[step] = {
      async run() {
        await new Promise<void>((open) => gates.set(step, open));
        gates.delete(step);
        if (step === "migrate") throw new UpgradeError("E_MIGRATION_FAILED", "0001_posts_created_at_not_null: NOT NULL constraint failed");
        return { step, note: `${step} done` };
      },
    };
  }

  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    writeFileSync(configPath, JSON.stringify({ name: "gated-blog", database: "sqlite:./blog.sqlite" }));
    config = await loadConfig(configPath, dir);
    store = await openJournal(config.journal, dir);
    // The built CLI serves the page (its files from dist/), as an operator would start it; the run
    // below is driven from this process, through the same journal file.
    cli = spawn(process.execPath, [join(ROOT, "dist", "cli.js"), "view", "--config", configPath, "--json"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((found, failed) => {
      let out = "";
      cli.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n")) found(out.split("\n")[0]!);
      });
      cli.once("exit", (code) => failed(new Error(`upgrade-machine view exited with ${code}`)));
    });
    const printed = JSON.parse(line) as { type: string; url: string };
    expect(printed.type).toBe("view");
    view = { url: printed.url, token: new URL(printed.url).searchParams.get("token")! };
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1500, height: 960 },
    });
    context.on("request", (r) => requests.push(r.url()));
    page = context.pages()[0] ?? (await context.newPage());
    page.on("websocket", (ws) => requests.push(ws.url()));
  });

  afterAll(async () => {
    await context?.close();
    if (cli?.exitCode === null) cli.kill("SIGKILL");
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  it("answers 403 to a request without the token, or with another one", async () => {
    const url = new URL(view.url);
    expect(url.hostname).toBe("127.0.0.1");
    for (const bad of [`${url.origin}/`, `${url.origin}/api/runs`, `${url.origin}/events?token=x${view.token.slice(1)}`]) {
      expect((await fetch(bad)).status, bad).toBe(403);
    }
    expect((await fetch(`${url.origin}/api/runs?token=${view.token}`)).status).toBe(200);
  });

  it("draws every state and transition of the machine, with no request leaving loopback", async () => {
    await page.goto(view.url);
    await page.waitForSelector("body[data-graph='1'][data-ready='1']");
    const graph = machineGraph();
    for (const s of graph.states) {
      const box = await page.locator(`#diagram g.state[data-state="${s.id}"]`).boundingBox();
      expect(box, s.id).not.toBeNull();
      expect(box!.width).toBeGreaterThan(50);
    }
    expect(await page.locator("#diagram g.state").count()).toBe(graph.states.length);
    expect(await page.locator("#diagram path.edge").count()).toBe(graph.transitions.length);
    await expect.poll(() => page.textContent("#run-state")).toBe("no run yet");
    expect(requests.length).toBeGreaterThanOrEqual(4); // page, css, js, graph (+ events)
    expect(requests.filter((u) => new URL(u).hostname !== "127.0.0.1")).toEqual([]);
  });

  it("highlights the state a run is in, step after step, through a failure and the rollback", async () => {
    const target = targetId(config.target);
    const runner = {
      store,
      config,
      target,
      steps,
      openDatabase: () => Promise.reject(new Error("no database")),
      backupRoot: join(dir, "backups"),
      leaseTtlMs: 60_000,
    };
    const run: Promise<RunResult> = startRun(runner, { toVersion: "2.0.0" });
    const current = () =>
      page.evaluate<string | null>(`document.querySelector("#diagram g.state.current")?.getAttribute("data-state") ?? null`);
    for (const step of PATH) {
      await vi.waitFor(() => expect(gates.has(step)).toBe(true), { timeout: 10_000 });
      await expect.poll(current, { timeout: 10_000 }).toBe(step);
      expect(await page.getAttribute("body", "data-current")).toBe(step);
      if (step === "restoreFiles") {
        // Mid-run: the forward steps are green, migrate red, stopNewVersion and restoreDatabase green, restoreFiles current.
        await expect.poll(() => page.locator("#diagram g.state.done").count()).toBe(11);
        expect(await page.getAttribute('#diagram g.state[data-state="migrate"]', "class")).toContain("failed");
        expect(await page.textContent("#events tbody")).toContain("E_MIGRATION_FAILED");
        await expect.poll(() => page.locator("#events tbody td.num", { hasText: "running" }).count()).toBe(1);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, "view.png"), fullPage: true });
      }
      gates.get(step)!();
    }
    const result = await run;
    expect(result.state).toBe("rolledBack");
    await expect.poll(current, { timeout: 10_000 }).toBe("rolledBack");
    await expect.poll(() => page.textContent("#run-state")).toBe("rolledBack");
    const events = await store.read(result.runId);
    await expect.poll(() => page.locator("#events tbody tr").count()).toBe(events.length);
    const migrateRow = page.locator("#events tbody tr.step-failed");
    expect(await migrateRow.locator("td").nth(3).textContent()).toBe("migrate");
    expect(await migrateRow.locator("td").nth(4).textContent()).toMatch(/\d+(\.\d)? (ms|s)$/);
    expect(requests.filter((u) => new URL(u).hostname !== "127.0.0.1")).toEqual([]);
  });

  it("stops on Ctrl-C (SIGINT) with exit code 0, and the port is closed", async () => {
    const exited = new Promise<number | null>((done) => cli.once("exit", (code) => done(code)));
    cli.kill("SIGINT");
    expect(await exited).toBe(0);
    await expect(fetch(view.url)).rejects.toThrow();
  });
});
