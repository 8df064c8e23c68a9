import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
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

describe("upgrade-machine run --inspect", () => {
  it("serves @statelyai/inspect's relay: a WebSocket client receives the machine's actor and snapshots; all closed after the run", async () => {
    const dir = tempDir();
    new Database(join(dir, "db.sqlite")).exec("create table t(x); insert into t values (1);").close();
    // A one-second grace period keeps the run (and so the relay) up while the client connects.
    writeFileSync(
      join(dir, "upgrade.json"),
      JSON.stringify({ name: "tiny", database: "sqlite:./db.sqlite", announce: { command: ["true"], graceSeconds: 1 } }),
    );
    const port = await freePort();
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: dir };
    const received: { type: string; name?: string; snapshot?: { value?: unknown } }[] = [];
    const running = main(["run", "--inspect", "--port", String(port)], io);
    await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200), { timeout: 5_000, interval: 20 });
    const { createWebSocketReceiver } = await import("@statelyai/inspect");
    createWebSocketReceiver({ server: `ws://127.0.0.1:${port}` }).subscribe((e) => received.push(e as never));
    // A page left open on the inspector must not keep the CLI alive after the run.
    const lingering = connect(port, "127.0.0.1");
    const closed = new Promise<string>((done) => lingering.once("close", () => done("closed")));
    expect(await running).toBe(0);
    expect(await Promise.race([closed, new Promise((done) => setTimeout(() => done("still open"), 2_000))])).toBe("closed");
    expect(out.join("")).toContain(`inspector: open http://localhost:${port}`);
    expect(received.some((e) => e.type === "@xstate.actor" && e.name === "upgrade")).toBe(true);
    expect(received.some((e) => e.type === "@xstate.snapshot" && e.snapshot?.value === "completed")).toBe(true);
  });
});
