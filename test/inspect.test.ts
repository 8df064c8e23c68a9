import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AnyActorRef, InspectionEvent } from "xstate";
import { FORWARD_STEPS, STEP_NAMES, upgradeMachine, type StepName } from "../machines/index.js";
import { main } from "../src/cli/main.js";
import { resolveConfig } from "../src/config/resolve.js";
import { openJournal } from "../src/journal/open.js";
import { resumeRun, SimulatedCrash, startRun, type RunnerOptions } from "../src/runner/runner.js";
import type { StepEffects } from "../src/steps/types.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "um-inspect-"));
  dirs.push(dir);
  return dir;
}

/** Step doubles: each returns its name; `crashAt` crashes (once) as the process would die. */
function doubles(crashAt?: StepName): StepEffects {
  let crashed = false;
  const steps = {} as StepEffects;
  for (const step of STEP_NAMES) {
    steps[step] = {
      async run() {
        if (step === crashAt && !crashed) {
          crashed = true;
          throw new SimulatedCrash(`crash in ${step}`);
        }
        return { step };
      },
    };
  }
  return steps;
}

async function runner(dir: string, steps: StepEffects): Promise<RunnerOptions> {
  const config = resolveConfig({ name: "inspected", database: "sqlite:./target.sqlite" }, dir, null);
  const store = await openJournal(config.journal, dir);
  return {
    store,
    config,
    target: "inspected-target",
    steps,
    openDatabase: () => Promise.reject(new Error("no database")),
    backupRoot: join(dir, "backups"),
    leaseTtlMs: 60_000,
  };
}

type MachineSnapshot = { value: string; context: { attempts: Record<string, number> } };
const ofMachine = (e: InspectionEvent) => (e.actorRef as unknown as { logic: unknown }).logic === upgradeMachine;
const snapshotValues = (events: InspectionEvent[]) =>
  events.flatMap((e) => (e.type === "@xstate.snapshot" && ofMachine(e) ? [String((e.snapshot as unknown as MachineSnapshot).value)] : []));

describe("the inspect observer sees a real actor of the upgrade machine", () => {
  it("during a run: @xstate.actor, then @xstate.event and @xstate.snapshot for every step to completed", async () => {
    const dir = tempDir();
    const seen: InspectionEvent[] = [];
    const options = await runner(dir, doubles());
    try {
      const result = await startRun({ ...options, inspect: (e) => seen.push(e) }, { toVersion: "2.0.0" });
      expect(result.state).toBe("completed");
    } finally {
      await options.store.close();
    }
    const actor = seen.find((e) => e.type === "@xstate.actor");
    expect(actor && ofMachine(actor)).toBe(true);
    const events = seen
      .filter((e) => e.type === "@xstate.event" && ofMachine(e))
      .map((e) => (e as { event: { type: string; step?: string } }).event);
    for (const step of FORWARD_STEPS) {
      expect(events).toContainEqual(expect.objectContaining({ type: "step.started", step }));
      expect(events).toContainEqual(expect.objectContaining({ type: "step.succeeded", step }));
    }
    const values = snapshotValues(seen);
    // A fresh run is shown from idle: the actor takes run.requested like every later event.
    expect(values.filter((v, i) => v !== values[i - 1])).toEqual(["idle", ...FORWARD_STEPS, "completed"]);
    expect(events.find((e) => e.type !== "xstate.init")).toMatchObject({ type: "run.requested" });
  });

  it("after a resume: the actor starts from the restored state (migrate, attempt 2), not from idle", async () => {
    const dir = tempDir();
    const options = await runner(dir, doubles("migrate"));
    const seen: InspectionEvent[] = [];
    try {
      await expect(startRun(options, { toVersion: "2.0.0" })).rejects.toBeInstanceOf(SimulatedCrash);
      const result = await resumeRun({ ...options, inspect: (e) => seen.push(e) });
      expect(result.state).toBe("completed");
    } finally {
      await options.store.close();
    }
    const actor = seen.find((e) => e.type === "@xstate.actor" && ofMachine(e));
    expect(actor).toBeDefined();
    // What the inspector is first shown: the restored snapshot, the run's context intact.
    const first = seen.find((e) => e.type === "@xstate.event" && ofMachine(e)) as
      | { event: { type: string }; snapshot?: unknown }
      | undefined;
    expect(first?.event.type).toBe("xstate.init");
    const restored = (actor!.actorRef as AnyActorRef).getSnapshot();
    expect(restored.status).toBe("done"); // the same actor, now at the end
    const values = snapshotValues(seen);
    expect(values).not.toContain("idle");
    expect(values).not.toContain("preflight");
    expect(values[0]).toBe("migrate");
    expect(values.at(-1)).toBe("completed");
    const init = seen.find((e) => e.type === "@xstate.snapshot" && ofMachine(e));
    const restoredContext = ((init as { snapshot?: unknown } | undefined)!.snapshot as MachineSnapshot).context;
    expect(restoredContext.attempts.migrate).toBeGreaterThanOrEqual(1);
    expect(restoredContext.attempts.preflight).toBe(1);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A non-loopback IPv4 address of this machine, or null. */
function outsideAddress(): string | null {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return null;
}

/** How a WebSocket upgrade request is answered: 101 when accepted, else the HTTP status. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.once("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", reject);
    req.end();
  });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A run that lasts a second (its grace period), so the relay is up while the test looks at it. */
function tinyTarget(): string {
  const dir = tempDir();
  new Database(join(dir, "db.sqlite")).exec("create table t(x); insert into t values (1);").close();
  writeFileSync(
    join(dir, "upgrade.json"),
    JSON.stringify({ name: "tiny", database: "sqlite:./db.sqlite", announce: { command: ["true"], graceSeconds: 1 } }),
  );
  return dir;
}

describe("upgrade-machine run --inspect", () => {
  it("serves the relay on loopback with a token: a WebSocket client receives the machine's actor and snapshots; all closed after the run", async () => {
    const dir = tinyTarget();
    const port = await freePort();
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: dir };
    const received: { type: string; name?: string; snapshot?: { value?: unknown } }[] = [];
    const running = main(["run", "--inspect", "--port", String(port)], io);
    await vi.waitFor(() => expect(out.join("")).toContain("inspector: open"), { timeout: 5_000, interval: 20 });
    const page = /inspector: open (\S+)/.exec(out.join(""))![1]!;
    const token = new URL(page).searchParams.get("token")!;
    expect(page).toBe(`http://127.0.0.1:${port}/?token=${token}`);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect((await fetch(page)).status).toBe(200);
    const { createWebSocketReceiver } = await import("@statelyai/inspect");
    createWebSocketReceiver({ server: `ws://127.0.0.1:${port}/?token=${token}` }).subscribe((e) => received.push(e as never));
    // A page left open on the inspector must not keep the CLI alive after the run.
    const lingering = connect(port, "127.0.0.1");
    const closed = new Promise<string>((done) => lingering.once("close", () => done("closed")));
    expect(await running).toBe(0);
    expect(await Promise.race([closed, new Promise((done) => setTimeout(() => done("still open"), 2_000))])).toBe("closed");
    expect(out.join("")).not.toContain("warning");
    expect(received.some((e) => e.type === "@xstate.actor" && e.name === "upgrade")).toBe(true);
    expect(received.some((e) => e.type === "@xstate.snapshot" && e.snapshot?.value === "completed")).toBe(true);
  });

  it("refuses the page and the WebSocket without the token (or with a wrong one), and does not answer on a non-loopback address", async (ctx) => {
    const dir = tinyTarget();
    const port = await freePort();
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: dir };
    const running = main(["run", "--inspect", "--port", String(port)], io);
    try {
      await vi.waitFor(() => expect(out.join("")).toContain("inspector: open"), { timeout: 5_000, interval: 20 });
      const token = new URL(/inspector: open (\S+)/.exec(out.join(""))![1]!).searchParams.get("token")!;
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(403);
      expect((await fetch(`http://127.0.0.1:${port}/?token=${"0".repeat(32)}`)).status).toBe(403);
      expect(await upgradeStatus(`http://127.0.0.1:${port}/`)).toBe(403);
      expect(await upgradeStatus(`http://127.0.0.1:${port}/?token=x${token}`)).toBe(403);
      expect(await upgradeStatus(`http://127.0.0.1:${port}/?token=${token}`)).toBe(101);
      const outside = outsideAddress();
      if (!outside) {
        console.warn("SKIPPED: this machine has no non-loopback IPv4 address to check that the relay does not answer there");
        ctx.skip();
      }
      expect(await accepts(outside!, port)).toBe(false);
    } finally {
      expect(await running).toBe(0);
    }
  });

  it("--inspect-host chooses another address, with a warning on stderr", async (ctx) => {
    const outside = outsideAddress();
    if (!outside) {
      console.warn("SKIPPED: this machine has no non-loopback IPv4 address for --inspect-host");
      ctx.skip();
    }
    const dir = tinyTarget();
    const port = await freePort();
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {}, cwd: dir };
    const running = main(["run", "--inspect", "--port", String(port), "--inspect-host", outside!], io);
    try {
      await vi.waitFor(() => expect(err.join("")).toContain("inspector: open"), { timeout: 5_000, interval: 20 });
      expect(err.join("")).toContain(`warning: the inspector listens on ${outside}, not only this machine`);
      const page = /inspector: open (\S+)/.exec(err.join(""))![1]!;
      expect(page.startsWith(`http://${outside}:${port}/?token=`)).toBe(true);
      expect((await fetch(page)).status).toBe(200);
      expect(await accepts("127.0.0.1", port)).toBe(false);
    } finally {
      expect(await running).toBe(0);
    }
  });

  it("--inspect-host without --inspect is E_USAGE", async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: tinyTarget() };
    expect(await main(["run", "--inspect-host", "0.0.0.0"], io)).toBe(2);
    expect(out.join("")).toContain("--inspect-host is the inspector's address: it needs --inspect");
  });
});
