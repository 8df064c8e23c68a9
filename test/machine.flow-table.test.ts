import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from "xstate";
import { getSimplePaths } from "xstate/graph";
import {
  ABORT_STEPS,
  CLOSING_EVENTS,
  ROLLBACK_STEPS,
  STEP_NAMES,
  TERMINAL_STATES,
  closedStateOf,
  phaseOf,
  upgradeMachine,
  type ClosedState,
  type StepName,
  type UpgradeEvent,
} from "../machines/index.js";
import type { JournalEvent } from "../src/journal/types.js";
import { foldJournal, toMachineEvent } from "../src/runner/fold.js";
import { faultScheduleArbitrary, simulateRun, type FaultSchedule } from "../src/testing/index.js";
import { upgradeMachineBefore } from "./fixtures/machine/upgrade-machine.before.js";

// The machine is built from the flow table in machines/upgrade-machine.ts; these tests hold it to
// the hand-written machine it replaced (test/fixtures/machine/upgrade-machine.before.ts).

const requested: UpgradeEvent = { type: "run.requested", runId: "r1", target: "t", toVersion: "2.0.0" };
const ok = (step: StepName, output: unknown): UpgradeEvent => ({ type: "step.succeeded", step, output: output as never });
const fail = (step: StepName): UpgradeEvent => ({ type: "step.failed", step, error: { code: "E_STEP", message: `${step} broke` } });

describe("the machine built from the flow table", () => {
  it("has the very config of the hand-written machine it replaced (states in order, guards, actions, meta, tags, descriptions)", () => {
    expect(JSON.stringify(upgradeMachine.config, null, 1)).toBe(JSON.stringify(upgradeMachineBefore.config, null, 1));
  });

  it("gives every step the phase that machines/steps.ts lists it under, and makes every terminal state final", () => {
    for (const step of STEP_NAMES) expect(upgradeMachine.states[step]?.meta, step).toEqual({ step, phase: phaseOf(step) });
    for (const end of TERMINAL_STATES) expect(upgradeMachine.states[end]?.type, end).toBe("final");
  });

  /** Every prefix of a journal folded through `machine`, as the fold does: closing markers change nothing. */
  function prefixes(machine: AnyStateMachine, events: readonly JournalEvent[]): AnyMachineSnapshot[] {
    let [s] = initialTransition(machine);
    const out = [s];
    for (const e of events) {
      const m = toMachineEvent(e);
      if (m) [s] = transition(machine, s, m);
      else expect(s.value).toBe(closedStateOf(e.type));
      out.push(s);
    }
    return out;
  }

  const seen = (s: AnyMachineSnapshot) => ({
    value: s.value,
    context: s.context,
    status: s.status,
    tags: [...s.tags],
    persisted: JSON.stringify(s.machine.getPersistedSnapshot(s)),
  });

  it("folds every prefix of real runs' journals (every failure, rollback failure and sampled crash schedules) to the same snapshot", async () => {
    const schedules: FaultSchedule[] = [
      {},
      ...STEP_NAMES.map((s) => ({ [s]: ["throw"] }) as FaultSchedule),
      ...[...ABORT_STEPS, ...ROLLBACK_STEPS].flatMap((r) =>
        ["grace", "seal", "health"].map((f) => ({ [f]: ["throw"], [r]: ["throw"] }) as FaultSchedule),
      ),
      ...fc.sample(faultScheduleArbitrary(), { numRuns: 15, seed: 9 }),
    ];
    const ends = new Set<string>();
    for (const schedule of schedules) {
      const { events } = await simulateRun({
        schedule,
        steps: {
          preflight: {
            run: async () => ({
              fromVersion: "1.0.0",
              toVersion: "2.0.0",
              serviceWasRunning: true,
              databaseBytes: 0,
              pendingMigrations: [],
            }),
          },
        },
      });
      const cut = Math.floor(events.length / 2); // the machine is still running there: abandon the run
      const abandoned = [
        ...events.slice(0, cut),
        { ...events[cut]!, seq: cut + 1, type: "run.abandoned" as const, step: null, payload: { reason: "test" } },
      ];
      for (const journal of [events, abandoned]) {
        const now = prefixes(upgradeMachine, journal).map(seen);
        expect(now, JSON.stringify(schedule)).toEqual(prefixes(upgradeMachineBefore, journal).map(seen));
        expect(seen(foldJournal(journal))).toEqual(now.at(-1));
        ends.add(String(now.at(-1)!.value));
      }
    }
    expect([...ends].sort()).toEqual([...TERMINAL_STATES].sort());
  }, 120_000);

  it("on every simple path through the hand-written machine (xstate/graph), takes and refuses the same events and lands in the same snapshots", () => {
    const alphabet: UpgradeEvent[] = [
      requested,
      { type: "run.abandoned", reason: "x" },
      ...STEP_NAMES.flatMap((step) => [
        { type: "step.started", step, attempt: 1 } as const,
        ok(step, { fromVersion: "1.0.0", toVersion: "3.0.0" }),
        fail(step),
      ]),
    ];
    const moves = alphabet.filter((e) => e.type !== "step.started"); // a start leaves its state unchanged but for a count
    const paths = getSimplePaths(upgradeMachineBefore, { events: moves, serializeState: (s) => JSON.stringify(s.value) });
    expect(new Set(paths.map((p) => String(p.state.value)))).toEqual(new Set(["idle", ...STEP_NAMES, ...TERMINAL_STATES]));
    for (const path of paths) {
      let [now] = initialTransition(upgradeMachine);
      let [then] = initialTransition(upgradeMachineBefore);
      for (const { event } of [...path.steps.slice(1), { event: null }]) {
        for (const e of alphabet) {
          expect(now.can(e), `${e.type} in ${String(then.value)}`).toBe(then.can(e));
          if (then.can(e)) expect(seen(transition(upgradeMachine, now, e)[0])).toEqual(seen(transition(upgradeMachineBefore, then, e)[0]));
        }
        if (!event) break;
        [now] = transition(upgradeMachine, now, event);
        [then] = transition(upgradeMachineBefore, then, event);
      }
    }
  });

  it("takes and refuses the same events as the hand-written machine, in any order (fast-check)", () => {
    // Mostly events of the step the machine waits on, so that runs go deep; some of any step.
    const stepOf = fc.oneof(
      { weight: 4, arbitrary: fc.constant("current" as const) },
      { weight: 1, arbitrary: fc.constantFrom(...STEP_NAMES) },
    );
    const kind = fc.constantFrom("started", "ok", "ok", "ok", "ok", "versions", "fail", "fail", "requested", "abandoned");
    fc.assert(
      fc.property(fc.array(fc.tuple(kind, stepOf), { maxLength: 60 }), (script) => {
        let [now] = initialTransition(upgradeMachine);
        let [then] = initialTransition(upgradeMachineBefore);
        for (const [k, which] of script) {
          const step =
            which === "current"
              ? (STEP_NAMES as readonly string[]).includes(String(then.value))
                ? (then.value as StepName)
                : "preflight"
              : which;
          const e: UpgradeEvent =
            k === "requested"
              ? requested
              : k === "abandoned"
                ? { type: "run.abandoned", reason: "x" }
                : k === "started"
                  ? { type: "step.started", step, attempt: 1 }
                  : k === "fail"
                    ? fail(step)
                    : ok(step, k === "versions" ? { fromVersion: "1.0.0", toVersion: "3.0.0" } : null);
          expect(now.can(e)).toBe(then.can(e));
          if (!then.can(e)) continue;
          [now] = transition(upgradeMachine, now, e);
          [then] = transition(upgradeMachineBefore, then, e);
          expect(seen(now)).toEqual(seen(then));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("the map between terminal states and closing events", () => {
  it("names one closing event per terminal state but abandoned, both ways", () => {
    expect([...Object.keys(CLOSING_EVENTS), "abandoned"].sort()).toEqual([...TERMINAL_STATES].sort());
    for (const [state, event] of Object.entries(CLOSING_EVENTS)) expect(closedStateOf(event)).toBe(state);
    for (const other of ["run.requested", "run.abandoned", "step.failed", "completed", ""]) expect(closedStateOf(other)).toBeNull();
  });

  it("is what the runner closes a run with and the only closing event the fold accepts in that state", async () => {
    const ends: Record<ClosedState, FaultSchedule> = {
      completed: {},
      rolledBack: { health: ["throw"] },
      aborted: { backup: ["throw"] },
      failed: { health: ["throw"], restoreFiles: ["throw"] },
    };
    for (const [state, schedule] of Object.entries(ends)) {
      const { events } = await simulateRun({ schedule });
      const last = events.at(-1)!;
      expect(last.type).toBe(CLOSING_EVENTS[state as ClosedState]);
      expect(foldJournal(events).value).toBe(state);
      for (const other of Object.values(CLOSING_EVENTS).filter((t) => t !== last.type)) {
        expect(() => foldJournal([...events.slice(0, -1), { ...last, type: other }]), `${other} after ${state}`).toThrow(
          /cannot happen in state/,
        );
      }
    }
  });
});
