import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StepName } from "../machines/index.js";
import { verifyChain } from "../src/journal/hash.js";
import {
  expectedPath,
  expectedTerminal,
  faultScheduleArbitrary,
  finalBreach,
  INTERRUPTING,
  serviceEffect,
  serviceWorld,
  simulateRun,
  type FaultSchedule,
} from "../src/testing/index.js";

/** The effect executions a schedule must cause: one per attempt that got past `step.started` without a crash before. */
function expectedEffects(schedule: FaultSchedule): StepName[] {
  const out: StepName[] = [];
  for (const step of expectedPath(schedule)) {
    for (const fault of [...(schedule[step] ?? []), "ok" as const]) {
      if (fault === "crashBefore") continue;
      out.push(step);
      if (!INTERRUPTING.includes(fault)) break;
    }
  }
  return out;
}

describe("the runner over fault schedules (real runner, real SQLite journal, step doubles)", () => {
  it("ends where the flow says, replays to the same state, and re-runs only interrupted steps", async () => {
    await fc.assert(
      fc.asyncProperty(faultScheduleArbitrary(), async (schedule) => {
        const dir = mkdtempSync(join(tmpdir(), "um-prop-"));
        const sim = await simulateRun({ schedule, dir });
        // invariant 4: a terminal state the design allows, the one the flow prescribes
        expect(sim.result.state).toBe(expectedTerminal(schedule));
        // invariant 2: the fold of the journal equals the live run's state
        expect(sim.replayMatches).toBe(true);
        // invariant 3: no step that completed ran again; only interrupted ones did
        expect(sim.effects).toEqual(expectedEffects(schedule));
        // the service: never two instances, nothing restored under a live process, and the version the final state promises
        expect(sim.service.violations).toEqual([]);
        // a driver that lost its lease (taken over, or unrenewable) wrote nothing more: every one was resumed
        const losses = Object.values(schedule)
          .flat()
          .filter((f) => f === "loseLease" || f === "renewalFails").length;
        expect(sim.leaseLosses).toBeLessThanOrEqual(losses);
        // the journal is an intact hash chain ending in the closing event
        expect(() => verifyChain(sim.events)).not.toThrow();
        expect(sim.events.at(-1)?.type).toBe(`run.${sim.result.state}`);
        // nothing is restored before the new version was stopped (or its stop journaled as skipped)
        const restoreAt = sim.events.findIndex((e) => e.type === "step.started" && e.step === "restoreDatabase");
        const stoppedAt = sim.events.findIndex((e) => e.type === "step.succeeded" && e.step === "stopNewVersion");
        if (restoreAt >= 0) expect(stoppedAt, "restoreDatabase ran before stopNewVersion succeeded").toBeGreaterThanOrEqual(0);
        if (restoreAt >= 0) expect(stoppedAt).toBeLessThan(restoreAt);
        // write-ahead: every result follows a step.started of the same step
        sim.events.forEach((e, i) => {
          if ((e.type === "step.succeeded" || e.type === "step.failed") && !e.payload.skipped) {
            expect(sim.events[i - 1]).toMatchObject({ type: "step.started", step: e.step });
          }
        });
      }),
      { numRuns: 120 },
    );
  }, 240_000);

  it("the simulated service catches what it is there for: a restore under a live process, two instances, the wrong version at the end", () => {
    const world = serviceWorld();
    serviceEffect(world, "stop", "ok");
    serviceEffect(world, "start", "ok");
    serviceEffect(world, "restoreDatabase", "ok"); // skipping stopNewVersion
    expect(world.violations).toEqual(["restoreDatabase ran while new ran"]);
    world.instances.push("old");
    serviceEffect(world, "health", "ok");
    expect(world.violations.at(-1)).toMatch(/2 instances/);
    expect(finalBreach({ instances: ["new"], violations: [] }, "rolledBack")).toMatch(/rolledBack with \["new"\] running/);
    expect(() => serviceEffect(serviceWorld(), "stopNewVersion", "keepsRunning")).toThrow(/still answers/);
  });

  it("the oracle itself is not trivial: schedules reach every terminal state", () => {
    const states = new Set<string>();
    fc.assert(
      fc.property(faultScheduleArbitrary(), (s) => {
        states.add(expectedTerminal(s));
      }),
      { numRuns: 500 },
    );
    expect(states).toEqual(new Set(["completed", "aborted", "rolledBack", "failed"]));
  });
});
