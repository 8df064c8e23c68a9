import { assign, setup } from "xstate";
import type { Json, UpgradeContext, UpgradeEvent } from "./events.js";
import type { StepName, StepPhase, TerminalState } from "./steps.js";

/** One row of the flow: a step's phase and the states its `step.succeeded` and `step.failed` lead to. */
interface FlowRow {
  phase: StepPhase;
  onSuccess: StepName | TerminalState;
  onFailure: StepName | TerminalState;
  /** The step's output names the versions (`fromVersion`, `toVersion`): keep them in the context. */
  recordsVersions?: true;
}

/**
 * The flow, one row per step, in the order the diagrams draw it. A failure before the stop ends
 * `aborted` (announcement withdrawn, service restarted if a stop was attempted); a failure after
 * the stop runs the rollback chain to `rolledBack`, starting with `stopNewVersion` (nothing is
 * restored under a live new version); a failure in either chain ends `failed`.
 */
// biome-ignore format: the flow is a table, aligned by hand so it reads as one
const FLOW: Record<StepName, FlowRow> = {
  preflight:            { phase: "forward",  onSuccess: "backup",               onFailure: "aborted", recordsVersions: true },
  backup:               { phase: "forward",  onSuccess: "lint",                 onFailure: "aborted" },
  lint:                 { phase: "forward",  onSuccess: "rehearse",             onFailure: "aborted" },
  rehearse:             { phase: "forward",  onSuccess: "announce",             onFailure: "aborted" },
  announce:             { phase: "forward",  onSuccess: "grace",                onFailure: "withdrawAnnouncement" },
  grace:                { phase: "forward",  onSuccess: "stop",                 onFailure: "withdrawAnnouncement" },
  stop:                 { phase: "forward",  onSuccess: "seal",                 onFailure: "restartService" },
  seal:                 { phase: "forward",  onSuccess: "upgradePackage",       onFailure: "restartService" },
  upgradePackage:       { phase: "forward",  onSuccess: "migrate",              onFailure: "stopNewVersion" },
  migrate:              { phase: "forward",  onSuccess: "verify",               onFailure: "stopNewVersion" },
  verify:               { phase: "forward",  onSuccess: "start",                onFailure: "stopNewVersion" },
  start:                { phase: "forward",  onSuccess: "health",               onFailure: "stopNewVersion" },
  health:               { phase: "forward",  onSuccess: "completed",            onFailure: "stopNewVersion" },
  restartService:       { phase: "abort",    onSuccess: "withdrawAnnouncement", onFailure: "failed" },
  withdrawAnnouncement: { phase: "abort",    onSuccess: "aborted",              onFailure: "aborted" },
  stopNewVersion:       { phase: "rollback", onSuccess: "restoreDatabase",      onFailure: "failed" },
  restoreDatabase:      { phase: "rollback", onSuccess: "restoreFiles",         onFailure: "failed" },
  restoreFiles:         { phase: "rollback", onSuccess: "reinstallPrevious",    onFailure: "failed" },
  reinstallPrevious:    { phase: "rollback", onSuccess: "startPrevious",        onFailure: "failed" },
  startPrevious:        { phase: "rollback", onSuccess: "verifyRestore",        onFailure: "failed" },
  verifyRestore:        { phase: "rollback", onSuccess: "rolledBack",           onFailure: "failed" },
};

/** What each step does: the state's `description`, shown by the live view and the diagrams. */
const DOES: Record<StepName, string> = {
  preflight: "Reads the installed version, checks the database, the folders and the free space. Changes nothing.",
  backup: "Hot backup of the database and copies of the configuration files, while the service still runs.",
  lint: "Reads the pending migrations against a read-only snapshot of the data: refuses destructive or failing ones before anyone is told.",
  rehearse: "Applies the pending migrations to a scratch copy of the hot backup, then drops it. A failure costs no downtime.",
  announce: "Tells the users about the downtime.",
  grace: "Waits until the deadline journaled when the step first started.",
  stop: "Stops the service.",
  seal: "Makes the restore point exact: every write committed before the stop is in it.",
  upgradePackage: "Installs the new version.",
  migrate: "Migrates the database schema, one transaction per migration.",
  verify: "Runs the verification commands against the migrated database.",
  start: "Starts the new version.",
  health: "Waits for the service to answer healthy.",
  restartService: "Starts the service again after a failed stop or seal (nothing was changed).",
  withdrawAnnouncement: "Withdraws the downtime announcement.",
  stopNewVersion: "Stops whatever the run started (the new version) and proves it down, before anything is restored.",
  restoreDatabase: "Restores the database from the restore point.",
  restoreFiles: "Restores the configuration files byte for byte.",
  reinstallPrevious: "Reinstalls the version that was installed before the run.",
  startPrevious: "Starts the previous version (only when it was running before the run).",
  verifyRestore: "Proves the restore: database fingerprint, files and version equal the restore point.",
};

/**
 * One state per row of the flow. A step's state counts its starts and leaves only on its own
 * result (`stepIs`). A failure in the abort or rollback chain is kept apart from the failure that
 * turned the run, which it must never hide.
 */
function stepStates() {
  const state = (step: StepName) => {
    const { phase, onSuccess, onFailure, recordsVersions } = FLOW[step];
    const stepIs = { type: "stepIs", params: { step } } as const;
    const keepOutput = recordsVersions ? (["recordOutput", "recordVersions"] as const) : "recordOutput";
    const keepFailure = phase === "forward" ? "recordFailure" : "recordRollbackFailure";
    return {
      description: DOES[step],
      tags: ["step"],
      meta: { step, phase },
      on: {
        "step.started": { guard: stepIs, actions: "recordStarted" },
        "step.succeeded": { guard: stepIs, target: onSuccess, actions: keepOutput },
        "step.failed": { guard: stepIs, target: onFailure, actions: keepFailure },
      },
    } as const;
  };
  const steps = Object.keys(FLOW) as StepName[];
  return Object.fromEntries(steps.map((step) => [step, state(step)])) as Record<StepName, ReturnType<typeof state>>;
}

/**
 * The upgrade as a state machine: one state per step of the flow above, each left by
 * `step.succeeded` or `step.failed` for that step. Pure: it names no effect and performs none.
 * The runner folds the journal through `transition()` and runs the step of the state it lands in.
 */
export const upgradeMachine = setup({
  types: { context: {} as UpgradeContext, events: {} as UpgradeEvent },
  guards: { stepIs: ({ event }, params: { step: StepName }) => "step" in event && event.step === params.step },
  actions: {
    recordRequest: assign(({ event }) =>
      event.type === "run.requested" ? { runId: event.runId, target: event.target, toVersion: event.toVersion } : {},
    ),
    recordStarted: assign({
      attempts: ({ context, event }) =>
        event.type === "step.started" ? { ...context.attempts, [event.step]: (context.attempts[event.step] ?? 0) + 1 } : context.attempts,
    }),
    recordOutput: assign(({ context, event }) => {
      if (event.type !== "step.succeeded") return {};
      const skipped = event.skipped ? { ...context.skipped, [event.step]: event.skipped } : context.skipped;
      return { outputs: { ...context.outputs, [event.step]: event.output }, skipped };
    }),
    recordVersions: assign(({ context, event }) => {
      if (event.type !== "step.succeeded") return {};
      const out = event.output as { [key: string]: Json } | null;
      const from = out && typeof out.fromVersion === "string" ? out.fromVersion : null;
      const to = out && typeof out.toVersion === "string" ? out.toVersion : context.toVersion;
      return { fromVersion: from, toVersion: to };
    }),
    recordFailure: assign({
      failure: ({ event }) => (event.type === "step.failed" ? { step: event.step, error: event.error } : null),
    }),
    recordRollbackFailure: assign({
      rollbackFailure: ({ context, event }) =>
        event.type === "step.failed" ? { step: event.step, error: event.error } : context.rollbackFailure,
    }),
  },
}).createMachine({
  id: "upgrade",
  initial: "idle",
  context: {
    runId: null,
    target: null,
    toVersion: null,
    fromVersion: null,
    outputs: {},
    skipped: {},
    attempts: {},
    failure: null,
    rollbackFailure: null,
  },
  on: { "run.abandoned": { target: ".abandoned" } },
  states: {
    idle: {
      description: "No run yet: waiting for run.requested.",
      on: { "run.requested": { target: "preflight", actions: "recordRequest" } },
    },
    ...stepStates(),
    completed: { type: "final", description: "The new version runs on the migrated database.", tags: ["terminal"] },
    rolledBack: {
      type: "final",
      description: "The previous version runs (if it ran before) on a database equal to the restore point.",
      tags: ["terminal"],
    },
    aborted: { type: "final", description: "Nothing was changed; the announcement was withdrawn.", tags: ["terminal"] },
    failed: {
      type: "final",
      description: "The rollback itself failed: the backup is intact and a person must finish by hand.",
      tags: ["terminal"],
    },
    abandoned: { type: "final", description: "An operator gave the run up.", tags: ["terminal"] },
  },
});

/** The machine's type, for consumers that fold a journal themselves. */
export type UpgradeMachine = typeof upgradeMachine;
