import { assign, setup } from "xstate";
import type { RolloutContext, RolloutEvent } from "./rollout-events.js";
import { anyFailed, mayOpen, overThreshold, runningCount, waveDone } from "./rollout-rules.js";

/** The rollout's end states. */
export const ROLLOUT_ENDS = ["completed", "halted", "cancelled", "failed"] as const;
/** An end state of a rollout. */
export type RolloutEnd = (typeof ROLLOUT_ENDS)[number];

/**
 * The draining states, one row each: no target starts, running targets finish (or are resumed
 * by another worker), and the rollout ends in `end` when none runs. A target ending `failed`
 * while halting or cancelling turns the end to `failed`: a person is needed, whatever else.
 */
// biome-ignore format: a table, aligned by hand
const DRAINING = {
  halting:    { end: "halted",    description: "A wave passed its failure threshold: running targets finish, none starts." },
  cancelling: { end: "cancelled", description: "Cancelled: queued targets never start; running ones finish." },
  failing:    { end: "failed",    description: "A target's rollback failed: running targets finish, none starts; a person is needed." },
} as const satisfies Record<string, { end: RolloutEnd; description: string }>;

const isRunning = { type: "targetRunning" } as const;
/** Running targets' events are folded in every state that is not final: a started one is being resumed. */
const FOLD_RUNNING = {
  "target.started": { guard: isRunning, actions: "recordStarted" },
  "target.ended": { guard: isRunning, actions: "recordEnded" },
} as const;

function draining(end: RolloutEnd, description: string) {
  return {
    description,
    tags: ["draining"],
    always: [...(end === "failed" ? [] : [{ guard: "anyFailed", target: "failing" } as const]), { guard: "noneRunning", target: end }],
    on: FOLD_RUNNING,
  } as const;
}

/**
 * A rollout of a fleet as a state machine, folded from the rollout journal: `pending`, then
 * `running` through the waves (the open wave is `context.wave`), `paused` in between when asked;
 * it ends `completed`, `halted`, `cancelled` or `failed`. Pure: it names no effect. Workers
 * decide from the folded snapshot which targets may start and journal what they did.
 */
export const rolloutMachine = setup({
  types: { context: {} as RolloutContext, events: {} as RolloutEvent },
  guards: {
    targetRunning: ({ context, event }) => "target" in event && context.targets[event.target]?.state === "running",
    targetStartable: ({ context, event }) => {
      if (event.type !== "target.started") return false;
      const t = context.targets[event.target];
      return t !== undefined && (t.state === "running" || (t.state === "pending" && t.wave === context.wave));
    },
    waveOpens: ({ context, event }) => event.type === "wave.opened" && mayOpen(context, event.wave),
    waveApprovable: ({ context, event }) => event.type === "wave.approved" && context.approve && event.wave === context.wave + 1,
    anyFailed: ({ context }) => anyFailed(context),
    noneRunning: ({ context }) => runningCount(context) === 0,
    overThreshold: ({ context }) => overThreshold(context),
    lastWaveDone: ({ context }) => waveDone(context) && context.wave === context.waves.length - 1,
  },
  actions: {
    recordRequest: assign(({ event }) => {
      if (event.type !== "rollout.requested") return {};
      const targets: RolloutContext["targets"] = {};
      event.waves.forEach((w, wave) => {
        for (const name of w.targets) targets[name] = { wave, state: "pending", worker: null, starts: 0 };
      });
      const { rolloutId, fleet, toVersion, waves, approve } = event;
      return { rolloutId, fleet, toVersion, waves, approve, targets };
    }),
    recordStarted: assign({
      targets: ({ context, event }) => {
        if (event.type !== "target.started") return context.targets;
        const t = context.targets[event.target]!;
        return { ...context.targets, [event.target]: { ...t, state: "running", worker: event.worker, starts: t.starts + 1 } };
      },
    }),
    recordEnded: assign({
      targets: ({ context, event }) => {
        if (event.type !== "target.ended") return context.targets;
        return { ...context.targets, [event.target]: { ...context.targets[event.target]!, state: event.state } };
      },
    }),
    openWave: assign({ wave: ({ context, event }) => (event.type === "wave.opened" ? event.wave : context.wave) }),
    approveWave: assign({
      approved: ({ context, event }) => (event.type === "wave.approved" ? [...context.approved, event.wave] : context.approved),
    }),
  },
}).createMachine({
  id: "rollout",
  initial: "pending",
  context: { rolloutId: null, fleet: null, toVersion: null, waves: [], approve: false, wave: -1, approved: [], targets: {} },
  states: {
    pending: {
      description: "No rollout yet: waiting for rollout.requested.",
      on: { "rollout.requested": { target: "running", actions: "recordRequest" } },
    },
    running: {
      description: "Working through the waves: the open wave's targets start, at most maxParallel at once in the fleet.",
      always: [
        { guard: "anyFailed", target: "failing" },
        { guard: "overThreshold", target: "halting" },
        { guard: "lastWaveDone", target: "completed" },
      ],
      on: {
        "target.started": { guard: "targetStartable", actions: "recordStarted" },
        "target.ended": { guard: isRunning, actions: "recordEnded" },
        "wave.opened": { guard: "waveOpens", actions: "openWave" },
        "wave.approved": { guard: "waveApprovable", actions: "approveWave" },
        "rollout.paused": { target: "paused" },
        "rollout.cancelled": { target: "cancelling" },
      },
    },
    paused: {
      description: "Paused: no target starts; running ones finish. `fleet resume` continues.",
      on: {
        ...FOLD_RUNNING,
        "wave.approved": { guard: "waveApprovable", actions: "approveWave" },
        "rollout.resumed": { target: "running" },
        "rollout.cancelled": { target: "cancelling" },
      },
    },
    halting: draining(DRAINING.halting.end, DRAINING.halting.description),
    cancelling: draining(DRAINING.cancelling.end, DRAINING.cancelling.description),
    failing: draining(DRAINING.failing.end, DRAINING.failing.description),
    completed: { type: "final", description: "Every target completed.", tags: ["end"] },
    halted: { type: "final", description: "A wave passed its failure threshold; targets not started are untouched.", tags: ["end"] },
    cancelled: { type: "final", description: "Cancelled; targets not started are untouched.", tags: ["end"] },
    failed: { type: "final", description: "A target's rollback failed: a person is needed.", tags: ["end"] },
  },
});

/** The rollout machine's type. */
export type RolloutMachine = typeof rolloutMachine;
