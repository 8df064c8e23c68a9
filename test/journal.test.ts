import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunJournal } from "../src/journal/journal.js";
import { openJournal } from "../src/journal/open.js";
import { canonicalJson, eventHash, verifyChain } from "../src/journal/hash.js";
import { acquireLease } from "../src/runner/lease.js";
import { processIdentity } from "../src/process/identity.js";
import { grace } from "../src/steps/announce.js";
import { resolveConfig } from "../src/config/resolve.js";
import { simulateRun } from "../src/testing/index.js";

const fresh = async () => {
  const dir = mkdtempSync(join(tmpdir(), "um-journal-"));
  return { dir, store: await openJournal(`sqlite:${join(dir, "journal.sqlite")}`, dir) };
};
const run = (runId: string) => ({ runId, target: "t", name: "n", createdAt: new Date().toISOString() });

describe("the SQLite journal", () => {
  it("appends durably, reads back in order, and chains hashes", async () => {
    const { dir, store } = await fresh();
    const j = await RunJournal.create(store, run("r1"), { toVersion: "2" });
    await j.append({ type: "step.started", step: "preflight", payload: { attempt: 1 } });
    await j.append({ type: "step.succeeded", step: "preflight", payload: { output: { fromVersion: "1" } } });
    await store.close();
    const again = await openJournal(`sqlite:${join(dir, "journal.sqlite")}`, dir);
    const events = await again.read("r1");
    expect(events.map((e) => [e.seq, e.type, e.step])).toEqual([
      [0, "run.requested", null],
      [1, "step.started", "preflight"],
      [2, "step.succeeded", "preflight"],
    ]);
    expect(() => verifyChain(events)).not.toThrow();
    expect(events[2]!.payload).toEqual({ output: { fromVersion: "1" } });
    await again.close();
  });

  it("fences a second writer: the same seq appended twice fails with E_FENCED", async () => {
    const { store } = await fresh();
    await RunJournal.create(store, run("r2"), {});
    const a = await RunJournal.open(store, "r2");
    const b = await RunJournal.open(store, "r2");
    await a.append({ type: "step.started", step: "preflight" });
    await expect(b.append({ type: "step.started", step: "preflight" })).rejects.toMatchObject({ code: "E_FENCED" });
    expect((await store.read("r2")).length).toBe(2);
    await store.close();
  });

  it("detects an edited event, a reordered seq and a removed event (E_JOURNAL_TAMPERED)", async () => {
    const { store } = await fresh();
    const j = await RunJournal.create(store, run("r3"), {});
    await j.append({ type: "step.started", step: "preflight" });
    await j.append({ type: "step.failed", step: "preflight", payload: { error: { code: "E_X", message: "m" } } });
    const events = await store.read("r3");
    expect(() => verifyChain([events[0]!, { ...events[1]!, payload: { attempt: 2 } }, events[2]!])).toThrow(/does not match its hash/);
    expect(() => verifyChain([events[0]!, events[2]!])).toThrow(/E_JOURNAL_TAMPERED|seq/);
    await store.close();
  });

  it("lists runs newest first, per target", async () => {
    const { store } = await fresh();
    await RunJournal.create(store, { ...run("a"), createdAt: "2026-01-01T00:00:00Z" }, {});
    await RunJournal.create(store, { ...run("b"), createdAt: "2026-02-01T00:00:00Z" }, {});
    await RunJournal.create(store, { ...run("c"), target: "other" }, {});
    expect((await store.runs("t")).map((r) => r.runId)).toEqual(["b", "a"]);
    await store.close();
  });
});

describe("the lease of a target", () => {
  it("refuses a second live driver (E_BUSY) and is free again once released", async () => {
    const { store } = await fresh();
    const first = await acquireLease(store, "target", "r1");
    await expect(acquireLease(store, "target", "r2")).rejects.toMatchObject({ code: "E_BUSY" });
    await first.release();
    const second = await acquireLease(store, "target", "r2");
    await second.release();
    await store.close();
  });

  it("takes over an expired lease of another host, but not a live one", async () => {
    const { store } = await fresh();
    const holder = { target: "t", owner: "elsewhere", runId: "r", host: "another-host", pid: 1, process: "other-boot/1/1/1" };
    await store.acquireLease(holder, 60_000, () => true);
    await expect(acquireLease(store, "t", null)).rejects.toMatchObject({ code: "E_BUSY" });
    await store.acquireLease(holder, -1, () => true);
    const mine = await acquireLease(store, "t", null);
    await mine.release();
    await store.close();
  });

  it("takes over at once the lease of a process of this boot and pid namespace that is proven dead", async () => {
    const { store } = await fresh();
    const dead = processIdentity()!.replace(/\/\d+\/(\d+)$/, `/${2 ** 22 + 12345}/$1`);
    await store.acquireLease(
      { target: "t", owner: "dead", runId: "r", host: hostname(), pid: 2 ** 22 + 12345, process: dead },
      60_000,
      () => true,
    );
    const mine = await acquireLease(store, "t", null);
    await mine.release();
    await store.close();
  });

  it("never takes over a live lease on a proof it cannot make: another boot (a cloned VM), another pid namespace (a container), no identity, or a pid reused by a newer process", async () => {
    const { store } = await fresh();
    const [boot, ns, , start] = processIdentity()!.split("/");
    // pid 1 exists everywhere: with another start time, it is a reused pid (proven dead); with another boot or namespace, nothing is proven
    const shapes = [`other-boot/${ns}/424242/${start}`, `${boot}/4026599999/424242/${start}`, null];
    for (const identity of shapes) {
      await store.acquireLease(
        { target: "t", owner: "x", runId: "r", host: hostname(), pid: 424242, process: identity },
        60_000,
        () => true,
      );
      await expect(acquireLease(store, "t", null)).rejects.toMatchObject({ code: "E_BUSY" });
    }
    const alive = processIdentity()!; // this very process, alive: never taken over by another owner
    await store.acquireLease(
      { target: "t", owner: "x", runId: "r", host: hostname(), pid: process.pid, process: alive },
      60_000,
      () => true,
    );
    await expect(acquireLease(store, "t", null)).rejects.toMatchObject({ code: "E_BUSY" });
    const reused = alive.replace(/\/(\d+)$/, "/1");
    await store.acquireLease(
      { target: "t", owner: "x", runId: "r", host: hostname(), pid: process.pid, process: reused },
      60_000,
      () => true,
    );
    const mine = await acquireLease(store, "t", null);
    await mine.release();
    await store.close();
  });

  it("a holder whose renewals fail stops before its next effect once its time ran out (E_BUSY), and keeps going while it has time", async () => {
    const { store } = await fresh();
    const held = await acquireLease(store, "t", null, 600);
    const renew = store.renewLease.bind(store);
    store.renewLease = async () => {
      throw new Error("journal unreachable");
    };
    await held.ensure(); // fresh: no renewal needed
    await new Promise((r) => setTimeout(r, 700));
    await expect(held.ensure()).rejects.toMatchObject({ code: "E_BUSY" });
    store.renewLease = renew;
    await held.release();
    await store.close();
  });

  it("a holder whose renewals fail has its signal aborted before the lease expires by the journal's clock, without waiting for an ensure", async () => {
    const { store } = await fresh();
    const asked = Date.now();
    const held = await acquireLease(store, "t", null, 800);
    store.renewLease = async () => {
      throw new Error("journal unreachable");
    };
    const aborted = await new Promise<number>((r) => held.signal.addEventListener("abort", () => r(Date.now()), { once: true }));
    // Stopped a quarter of the lease before its end, counted from before the request that took it.
    expect(aborted - asked).toBeLessThan(800);
    expect(aborted - asked).toBeGreaterThanOrEqual(550);
    expect(held.signal.reason).toMatchObject({ code: "E_BUSY" });
    await expect(held.ensure()).rejects.toMatchObject({ code: "E_BUSY" });
    await held.release();
    await store.close();
  });

  it("a holder blocked by long synchronous work, whose lease expired and was taken over, learns it at its next ensure (E_BUSY)", async () => {
    const { store } = await fresh();
    const held = await acquireLease(store, "t", null, 600);
    const end = Date.now() + 700;
    while (Date.now() < end); // a long synchronous better-sqlite3 call: no renewal can run
    const thief = await acquireLease(store, "t", null, 60_000); // the first lease expired by the journal's clock
    await expect(held.ensure()).rejects.toMatchObject({ code: "E_BUSY" });
    await thief.release();
    await store.close();
  });
});

describe("the grace period", () => {
  it("counts from the step's first start in the journal, so a restart waits only for what is left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "um-grace-"));
    const config = resolveConfig({ name: "g", database: "sqlite:./x.sqlite", announce: { graceSeconds: 1 } }, dir, null);
    const sim = await simulateRun({ schedule: { grace: ["crashBefore"] }, config, steps: { grace }, dir });
    expect(sim.result.state).toBe("completed");
    const started = sim.events.filter((e) => e.type === "step.started" && e.step === "grace");
    expect(started.length).toBe(2);
    const done = sim.events.find((e) => e.type === "step.succeeded" && e.step === "grace")!;
    const deadline = (done.payload.output as { deadline: string }).deadline;
    expect(Date.parse(deadline)).toBe(Date.parse(started[0]!.at) + 1000);
    expect(Date.parse(done.at)).toBeGreaterThanOrEqual(Date.parse(deadline));
  });
});

describe("the event hash", () => {
  it("is the one earlier releases wrote (their journals still verify): sorted keys at every depth, undefined dropped", () => {
    const payload = { z: 1, a: [1, null, "é\u2028", { y: true, b: undefined }], ü: { n: -0.5 }, skipped: undefined };
    const event = {
      runId: "r-1",
      seq: 3,
      type: "step.succeeded" as const,
      step: "migrate" as const,
      payload: payload as never,
      at: "2026-12-01T00:00:00.000Z",
    };
    expect(canonicalJson(payload)).toBe('{"a":[1,null,"é\u2028",{"y":true}],"z":1,"ü":{"n":-0.5}}');
    // computed by the implementation before the append was made faster (createHash, Object.entries)
    expect(eventHash("ab".repeat(32), event)).toBe("e6fd9320d7490830b2899e742c3b0e197f3b638d364dec9799235e7580f18118");
  });
});
