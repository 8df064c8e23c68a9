import { describe, expect, it } from "vitest";
import { getShortestPaths, toDirectedGraph } from "xstate/graph";
import { initialTransition, transition } from "xstate";
import {
  ABORT_STEPS,
  FORWARD_STEPS,
  ROLLBACK_STEPS,
  STEP_NAMES,
  TERMINAL_STATES,
  upgradeMachine,
  type StepName,
  type UpgradeEvent,
} from "../machines/index.js";

type Snap = ReturnType<typeof initialTransition<typeof upgradeMachine>>[0];

const requested: UpgradeEvent = { type: "run.requested", runId: "r1", target: "t", toVersion: "2.0.0" };
const ok = (step: StepName, output: unknown = { step }): UpgradeEvent => ({ type: "step.succeeded", step, output: output as never });
const fail = (step: StepName): UpgradeEvent => ({ type: "step.failed", step, error: { code: "E_STEP", message: `${step} broke` } });

function run(events: UpgradeEvent[]): Snap {
  let [s] = initialTransition(upgradeMachine);
  for (const e of events) {
    expect(s.can(e), `${e.type} ${"step" in e ? e.step : ""} in ${String(s.value)}`).toBe(true);
    [s] = transition(upgradeMachine, s, e);
  }
  return s;
}

/** Events that walk the forward chain up to (not including) `step`. */
function upTo(step: StepName): UpgradeEvent[] {
  const idx = FORWARD_STEPS.indexOf(step as (typeof FORWARD_STEPS)[number]);
  if (idx === 0) return [requested];
  return [requested, ok("preflight", { fromVersion: "1.0.0", toVersion: "2.0.0" }), ...FORWARD_STEPS.slice(1, idx).map((s) => ok(s))];
}

describe("the upgrade machine through the pure transition()", () => {
  it("runs every forward step in order to completed, keeping outputs and versions", () => {
    const s = run([...upTo("health"), ok("health")]);
    expect(s.value).toBe("completed");
    expect(s.status).toBe("done");
    expect(s.context.fromVersion).toBe("1.0.0");
    expect(s.context.toVersion).toBe("2.0.0");
    expect(Object.keys(s.context.outputs)).toEqual([...FORWARD_STEPS]);
  });

  it("returns effects as data and executes none (transition is pure)", () => {
    const [s0] = initialTransition(upgradeMachine);
    const [s1, actions] = transition(upgradeMachine, s0, requested);
    expect(s1.value).toBe("preflight");
    expect(actions.every((a) => typeof a.type === "string")).toBe(true);
    // the same input gives the same output: nothing outside the snapshot changed
    expect(transition(upgradeMachine, s0, requested)[0].value).toBe("preflight");
  });

  const beforeStop = ["preflight", "backup", "lint", "rehearse"] as const;
  for (const step of beforeStop) {
    it(`a failed ${step} ends aborted directly (nothing touched, nothing announced)`, () => {
      const s = run([...upTo(step), fail(step)]);
      expect(s.value).toBe("aborted");
      expect(s.context.failure?.step).toBe(step);
    });
  }

  for (const step of ["announce", "grace"] as const) {
    it(`a failed ${step} withdraws the announcement, then ends aborted`, () => {
      let s = run([...upTo(step), fail(step)]);
      expect(s.value).toBe("withdrawAnnouncement");
      s = transition(upgradeMachine, s, ok("withdrawAnnouncement"))[0];
      expect(s.value).toBe("aborted");
    });
  }

  for (const step of ["stop", "seal"] as const) {
    it(`a failed ${step} restarts the service and withdraws, then ends aborted; a failed restart ends failed`, () => {
      const s = run([...upTo(step), fail(step)]);
      expect(s.value).toBe("restartService");
      const back = run([...upTo(step), fail(step), ok("restartService"), ok("withdrawAnnouncement")]);
      expect(back.value).toBe("aborted");
      const stuck = run([...upTo(step), fail(step), fail("restartService")]);
      expect(stuck.value).toBe("failed");
      expect(stuck.context.rollbackFailure?.step).toBe("restartService");
    });
  }

  it("a failed withdrawal still ends aborted (nothing was changed)", () => {
    expect(run([...upTo("announce"), fail("announce"), fail("withdrawAnnouncement")]).value).toBe("aborted");
  });

  const afterStop = FORWARD_STEPS.slice(FORWARD_STEPS.indexOf("upgradePackage"));
  for (const step of afterStop) {
    it(`a failed ${step} first stops the new version, then runs the whole rollback chain to rolledBack`, () => {
      let s = run([...upTo(step), fail(step)]);
      expect(s.value).toBe("stopNewVersion");
      expect(ROLLBACK_STEPS[0]).toBe("stopNewVersion");
      for (const r of ROLLBACK_STEPS) {
        expect(s.value).toBe(r);
        s = transition(upgradeMachine, s, ok(r))[0];
      }
      expect(s.value).toBe("rolledBack");
      expect(s.context.failure).toEqual({ step, error: { code: "E_STEP", message: `${step} broke` } });
    });
    for (const r of ROLLBACK_STEPS) {
      it(`a failed ${r} after a failed ${step} ends failed`, () => {
        const before = ROLLBACK_STEPS.slice(0, ROLLBACK_STEPS.indexOf(r)).map((x) => ok(x));
        const s = run([...upTo(step), fail(step), ...before, fail(r)]);
        expect(s.value).toBe("failed");
        expect(s.context.rollbackFailure?.step).toBe(r);
      });
    }
  }

  it("a failed stop of the new version ends failed without restoring anything", () => {
    const s = run([...upTo("health"), fail("health"), fail("stopNewVersion")]);
    expect(s.value).toBe("failed");
    expect(s.context.rollbackFailure?.step).toBe("stopNewVersion");
    expect(s.context.outputs.restoreDatabase).toBeUndefined();
    expect(s.context.attempts.restoreDatabase).toBeUndefined();
    // restoreDatabase can only follow stopNewVersion's result
    const waiting = run([...upTo("migrate"), fail("migrate")]);
    expect(waiting.can(ok("restoreDatabase"))).toBe(false);
    expect(waiting.can({ type: "step.started", step: "restoreDatabase", attempt: 1 })).toBe(false);
  });

  it("refuses a result for a step other than the current one", () => {
    const [s] = transition(upgradeMachine, initialTransition(upgradeMachine)[0], requested);
    expect(s.can(ok("backup"))).toBe(false);
    expect(s.can(fail("migrate"))).toBe(false);
    expect(s.can({ type: "step.started", step: "preflight", attempt: 1 })).toBe(true);
  });

  it("counts attempts of a step re-started after a crash", () => {
    const s = run([
      requested,
      { type: "step.started", step: "preflight", attempt: 1 },
      { type: "step.started", step: "preflight", attempt: 2 },
    ]);
    expect(s.context.attempts.preflight).toBe(2);
    expect(s.value).toBe("preflight");
  });

  it("an abandoned run ends abandoned from any step", () => {
    expect(run([...upTo("migrate"), { type: "run.abandoned", reason: "operator" }]).value).toBe("abandoned");
  });
});

describe("the machine's graph (xstate/graph)", () => {
  const graph = toDirectedGraph(upgradeMachine);
  const ids = graph.children.map((n) => n.id.replace(/^upgrade\./, ""));

  it("has a state for every step and every terminal state, and nothing else but idle", () => {
    expect(new Set(ids)).toEqual(new Set(["idle", ...STEP_NAMES, ...TERMINAL_STATES]));
    expect(STEP_NAMES.length).toBe(FORWARD_STEPS.length + ABORT_STEPS.length + ROLLBACK_STEPS.length);
  });

  it("reaches every state from idle", () => {
    const events: UpgradeEvent[] = [requested, ...STEP_NAMES.flatMap((s) => [ok(s), fail(s)]), { type: "run.abandoned", reason: "x" }];
    const paths = getShortestPaths(upgradeMachine, { events });
    const reached = new Set(paths.map((p) => String(p.state.value)));
    expect(reached).toEqual(new Set(ids));
  });

  it("lets every non-final state reach a terminal state", () => {
    const edges = new Map<string, string[]>();
    for (const node of graph.children) {
      edges.set(
        node.id,
        node.edges.map((e) => e.target.id),
      );
    }
    const terminal = new Set(TERMINAL_STATES.map((t) => `upgrade.${t}`));
    for (const start of edges.keys()) {
      const seen = new Set<string>([start]);
      const queue = [start];
      let found = terminal.has(start);
      while (queue.length && !found) {
        for (const next of edges.get(queue.shift()!) ?? []) {
          if (terminal.has(next)) found = true;
          if (!seen.has(next)) seen.add(next), queue.push(next);
        }
      }
      expect(found, `${start} cannot reach a terminal state`).toBe(true);
    }
  });
});
