import { assign, setup } from "xstate";
import type { Json, UpgradeContext, UpgradeEvent } from "./events.js";
import type { StepName } from "./steps.js";

/**
 * The upgrade as a state machine: one state per step, each left by `step.succeeded` or
 * `step.failed` for that step. Pure: it names no effect and performs none. The runner folds the
 * journal through `transition()` and runs the step of the state it lands in.
 *
 * Failure before the stop ends `aborted` (announcement withdrawn, service restarted if a stop
 * was attempted); failure after the stop runs the rollback chain to `rolledBack`, starting with
 * `stopNewVersion` (nothing is restored under a live new version); a failure in either chain
 * ends `failed`.
 */
export const upgradeMachine = setup({
  types: {
    context: {} as UpgradeContext,
    events: {} as UpgradeEvent,
  },
  guards: {
    stepIs: ({ event }, params: { step: StepName }) => "step" in event && event.step === params.step,
  },
  actions: {
    recordRequest: assign(({ event }) =>
      event.type === "run.requested"
        ? { runId: event.runId, target: event.target, toVersion: event.toVersion }
        : {},
    ),
    recordStarted: assign({
      attempts: ({ context, event }) =>
        event.type === "step.started"
          ? { ...context.attempts, [event.step]: (context.attempts[event.step] ?? 0) + 1 }
          : context.attempts,
    }),
    recordOutput: assign(({ context, event }) =>
      event.type === "step.succeeded"
        ? {
            outputs: { ...context.outputs, [event.step]: event.output },
            skipped: event.skipped ? { ...context.skipped, [event.step]: event.skipped } : context.skipped,
          }
        : {},
    ),
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
  on: {
    "run.abandoned": { target: ".abandoned" },
  },
  states: {
    idle: {
      description: "No run yet: waiting for run.requested.",
      on: { "run.requested": { target: "preflight", actions: "recordRequest" } },
    },
    preflight: {
      description: "Reads the installed version, checks the database, the folders and the free space. Changes nothing.",
      tags: ["step"],
      meta: { step: "preflight", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "preflight" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "preflight" } }, target: "backup", actions: ["recordOutput", "recordVersions"] },
        "step.failed": { guard: { type: "stepIs", params: { step: "preflight" } }, target: "aborted", actions: "recordFailure" },
      },
    },
    backup: {
      description: "Hot backup of the database and copies of the configuration files, while the service still runs.",
      tags: ["step"],
      meta: { step: "backup", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "backup" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "backup" } }, target: "announce", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "backup" } }, target: "aborted", actions: "recordFailure" },
      },
    },
    announce: {
      description: "Tells the users about the downtime.",
      tags: ["step"],
      meta: { step: "announce", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "announce" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "announce" } }, target: "grace", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "announce" } }, target: "withdrawAnnouncement", actions: "recordFailure" },
      },
    },
    grace: {
      description: "Waits until the deadline journaled when the step first started.",
      tags: ["step"],
      meta: { step: "grace", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "grace" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "grace" } }, target: "stop", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "grace" } }, target: "withdrawAnnouncement", actions: "recordFailure" },
      },
    },
    stop: {
      description: "Stops the service.",
      tags: ["step"],
      meta: { step: "stop", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "stop" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "stop" } }, target: "seal", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "stop" } }, target: "restartService", actions: "recordFailure" },
      },
    },
    seal: {
      description: "Makes the restore point exact: every write committed before the stop is in it.",
      tags: ["step"],
      meta: { step: "seal", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "seal" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "seal" } }, target: "upgradePackage", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "seal" } }, target: "restartService", actions: "recordFailure" },
      },
    },
    upgradePackage: {
      description: "Installs the new version.",
      tags: ["step"],
      meta: { step: "upgradePackage", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "upgradePackage" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "upgradePackage" } }, target: "migrate", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "upgradePackage" } }, target: "stopNewVersion", actions: "recordFailure" },
      },
    },
    migrate: {
      description: "Migrates the database schema, one transaction per migration.",
      tags: ["step"],
      meta: { step: "migrate", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "migrate" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "migrate" } }, target: "verify", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "migrate" } }, target: "stopNewVersion", actions: "recordFailure" },
      },
    },
    verify: {
      description: "Runs the verification commands against the migrated database.",
      tags: ["step"],
      meta: { step: "verify", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "verify" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "verify" } }, target: "start", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "verify" } }, target: "stopNewVersion", actions: "recordFailure" },
      },
    },
    start: {
      description: "Starts the new version.",
      tags: ["step"],
      meta: { step: "start", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "start" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "start" } }, target: "health", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "start" } }, target: "stopNewVersion", actions: "recordFailure" },
      },
    },
    health: {
      description: "Waits for the service to answer healthy.",
      tags: ["step"],
      meta: { step: "health", phase: "forward" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "health" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "health" } }, target: "completed", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "health" } }, target: "stopNewVersion", actions: "recordFailure" },
      },
    },
    restartService: {
      description: "Starts the service again after a failed stop or seal (nothing was changed).",
      tags: ["step"],
      meta: { step: "restartService", phase: "abort" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "restartService" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "restartService" } }, target: "withdrawAnnouncement", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "restartService" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    withdrawAnnouncement: {
      description: "Withdraws the downtime announcement.",
      tags: ["step"],
      meta: { step: "withdrawAnnouncement", phase: "abort" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "withdrawAnnouncement" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "withdrawAnnouncement" } }, target: "aborted", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "withdrawAnnouncement" } }, target: "aborted", actions: "recordRollbackFailure" },
      },
    },
    stopNewVersion: {
      description: "Stops whatever the run started (the new version) and proves it down, before anything is restored.",
      tags: ["step"],
      meta: { step: "stopNewVersion", phase: "rollback" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "stopNewVersion" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "stopNewVersion" } }, target: "restoreDatabase", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "stopNewVersion" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    restoreDatabase: {
      description: "Restores the database from the restore point.",
      tags: ["step"],
      meta: { step: "restoreDatabase", phase: "rollback" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "restoreDatabase" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "restoreDatabase" } }, target: "restoreFiles", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "restoreDatabase" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    restoreFiles: {
      description: "Restores the configuration files byte for byte.",
      tags: ["step"],
      meta: { step: "restoreFiles", phase: "rollback" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "restoreFiles" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "restoreFiles" } }, target: "reinstallPrevious", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "restoreFiles" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    reinstallPrevious: {
      description: "Reinstalls the version that was installed before the run.",
      tags: ["step"],
      meta: { step: "reinstallPrevious", phase: "rollback" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "reinstallPrevious" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "reinstallPrevious" } }, target: "startPrevious", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "reinstallPrevious" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    startPrevious: {
      description: "Starts the previous version (only when it was running before the run).",
      tags: ["step"],
      meta: { step: "startPrevious", phase: "rollback" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "startPrevious" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "startPrevious" } }, target: "verifyRestore", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "startPrevious" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    verifyRestore: {
      description: "Proves the restore: database fingerprint, files and version equal the restore point.",
      tags: ["step"],
      meta: { step: "verifyRestore", phase: "rollback" },
      on: {
        "step.started": { guard: { type: "stepIs", params: { step: "verifyRestore" } }, actions: "recordStarted" },
        "step.succeeded": { guard: { type: "stepIs", params: { step: "verifyRestore" } }, target: "rolledBack", actions: "recordOutput" },
        "step.failed": { guard: { type: "stepIs", params: { step: "verifyRestore" } }, target: "failed", actions: "recordRollbackFailure" },
      },
    },
    completed: { type: "final", description: "The new version runs on the migrated database.", tags: ["terminal"] },
    rolledBack: { type: "final", description: "The previous version runs (if it ran before) on a database equal to the restore point.", tags: ["terminal"] },
    aborted: { type: "final", description: "Nothing was changed; the announcement was withdrawn.", tags: ["terminal"] },
    failed: { type: "final", description: "The rollback itself failed: the backup is intact and a person must finish by hand.", tags: ["terminal"] },
    abandoned: { type: "final", description: "An operator gave the run up.", tags: ["terminal"] },
  },
});

/** The machine's type, for consumers that fold a journal themselves. */
export type UpgradeMachine = typeof upgradeMachine;
