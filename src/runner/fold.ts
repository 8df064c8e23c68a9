import { createActor, initialTransition, type SnapshotFrom } from "xstate";
import { closedStateOf, upgradeMachine, isStepName, type StepName, type UpgradeEvent } from "../../machines/index.js";
import { UpgradeError } from "../errors.js";
import type { JournalEvent } from "../journal/types.js";
import { PRUNED_EVENT } from "./pruned.js";

/** The machine's snapshot. */
export type UpgradeSnapshot = SnapshotFrom<typeof upgradeMachine>;

/** The journal event as the machine sees it; null for the closing `run.*` markers. */
export function toMachineEvent(event: JournalEvent): UpgradeEvent | null {
  const p = event.payload;
  switch (event.type) {
    case "run.requested":
      return {
        type: "run.requested",
        runId: event.runId,
        target: String(p.target),
        toVersion: typeof p.toVersion === "string" ? p.toVersion : null,
      };
    case "step.started":
      return { type: "step.started", step: stepOf(event), attempt: Number(p.attempt ?? 1) };
    case "step.succeeded":
      return {
        type: "step.succeeded",
        step: stepOf(event),
        output: p.output ?? null,
        ...(typeof p.skipped === "string" ? { skipped: p.skipped } : {}),
      };
    case "step.failed":
      return { type: "step.failed", step: stepOf(event), error: p.error as never };
    case "run.abandoned":
      return { type: "run.abandoned", reason: String(p.reason ?? "") };
    default:
      return null;
  }
}

/** The initial snapshot of the machine: `idle`, no run. */
export function initialSnapshot(): UpgradeSnapshot {
  return initialTransition(upgradeMachine)[0];
}

type InertScope = Parameters<typeof upgradeMachine.transition>[2];
let inert: InertScope | undefined;

/**
 * The actor scope the fold hands to the machine's own `transition`: it executes nothing (its
 * action executor drops every action, as xstate's pure `transition()` does), and it is made once.
 * xstate's `transition()` builds a new actor for each call, and with it the machine's initial
 * snapshot: most of a replay's time. The machine invokes no actor and delays nothing, so
 * nothing accumulates in the scope between events.
 */
function inertScope(): InertScope {
  if (inert) return inert;
  const self = createActor(upgradeMachine);
  const none = () => {};
  inert = {
    self,
    defer: none,
    id: "",
    logger: none,
    sessionId: "",
    stopChild: none,
    system: self.system,
    emit: none,
    actionExecutor: none,
  };
  return inert;
}

/** One pure step of the fold; throws E_JOURNAL_MISMATCH when the machine cannot take the event. */
export function applyEvent(snapshot: UpgradeSnapshot, event: JournalEvent): UpgradeSnapshot {
  // The record of a finished run's backups deleted by `backups prune`: no transition.
  if (event.type === PRUNED_EVENT) {
    if (snapshot.status !== "done") throw mismatch(event, snapshot);
    return snapshot;
  }
  const closing = closedStateOf(event.type);
  if (closing) {
    if (snapshot.value !== closing) throw mismatch(event, snapshot);
    return snapshot;
  }
  const machineEvent = toMachineEvent(event);
  if (!machineEvent || snapshot.status !== "active" || !snapshot.can(machineEvent)) throw mismatch(event, snapshot);
  return upgradeMachine.transition(snapshot, machineEvent, inertScope());
}

/**
 * The state of a run, folded from its events through xstate's pure `transition()`. Runs no
 * effect: replaying a journal twice gives the same snapshot and touches nothing.
 */
export function foldJournal(events: readonly JournalEvent[]): UpgradeSnapshot {
  return events.reduce(applyEvent, initialSnapshot());
}

/** The step the snapshot waits on (the state's own name), or null in `idle` and final states. */
export function currentStep(snapshot: UpgradeSnapshot): StepName | null {
  const value = snapshot.value;
  return typeof value === "string" && isStepName(value) ? value : null;
}

function stepOf(event: JournalEvent): StepName {
  if (!isStepName(event.step)) {
    throw new UpgradeError("E_JOURNAL_MISMATCH", `event ${event.seq} of run ${event.runId} names an unknown step "${event.step}"`, {
      hint: "the journal was written by another version of upgrade-machine; use that version to finish the run",
    });
  }
  return event.step;
}

function mismatch(event: JournalEvent, snapshot: UpgradeSnapshot): UpgradeError {
  return new UpgradeError(
    "E_JOURNAL_MISMATCH",
    `event ${event.seq} of run ${event.runId} (${event.type}${event.step ? ` ${event.step}` : ""}) cannot happen in state ${JSON.stringify(snapshot.value)}`,
    {
      hint: "the journal does not follow the machine: it was edited, or written by another version of upgrade-machine",
      details: { seq: event.seq, type: event.type, step: event.step, state: String(snapshot.value) },
    },
  );
}
