import type { StepError, StepName, TerminalState } from "../../machines/index.js";
import type { JournalEvent } from "../journal/types.js";
import { anyValue, describeMismatch, object, optional, recordOf, str } from "../steps/json-guard.js";
import { downtimeOf, type Downtime } from "./downtime.js";
import type { UpgradeSnapshot } from "./fold.js";
import { runRequestOf, type RunKind } from "../steps/restore-source.js";

/** How one step went, as the journal tells it. */
export interface StepOutcome {
  step: StepName;
  outcome: "succeeded" | "failed" | "skipped" | "interrupted";
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  skipped?: string;
  error?: StepError;
}

const stepError = object<StepError>({ code: str, message: str, hint: optional(str), details: optional(recordOf(anyValue)) });

/** A step's error as the journal holds it; one of another shape is reported as such, not trusted. */
function errorOf(value: unknown): StepError {
  const where: string[] = [];
  if (stepError(value, where)) return value;
  return {
    code: "E_JOURNAL_MISMATCH",
    message: `the journal's error of this step is not what this version reads: ${describeMismatch(where)}`,
  };
}

/** The state of a run: `running` until the machine reaches a final state. */
export type RunState = TerminalState | "running";

/** What `upgrade()`, `resume()` and `status()` return about a run. */
export interface RunResult {
  runId: string;
  /** `upgrade`, or `restore` for a run of `upgrade-machine restore`. */
  kind: RunKind;
  /** For a restore run: the run whose restore point it puts back. */
  restoreOf: string | null;
  state: RunState;
  /** The step the run is at (running) or ended in; null when it completed. */
  step: StepName | null;
  fromVersion: string | null;
  toVersion: string | null;
  steps: StepOutcome[];
  /** The failure that sent the run to abort or rollback. */
  failure: { step: StepName; error: StepError } | null;
  /** A failure inside the abort or rollback chain (state `failed`). */
  rollbackFailure: { step: StepName; error: StepError } | null;
  /** For `failed`: what a person must do to finish, command by command. */
  instructions: string[];
  /** How long the service was down because of the run, and each step's share (see `Downtime`). */
  downtime: Downtime;
}

/** The outcomes of every step of a run, in the order they were first reached. */
export function stepOutcomes(events: readonly JournalEvent[]): StepOutcome[] {
  const byStep = new Map<StepName, StepOutcome>();
  for (const e of events) {
    if (!e.step) continue;
    let o = byStep.get(e.step);
    if (!o) {
      o = { step: e.step, outcome: "interrupted", attempts: 0, startedAt: null, finishedAt: null, durationMs: null };
      byStep.set(e.step, o);
    }
    if (e.type === "step.started") {
      o.attempts += 1;
      o.startedAt ??= e.at;
      o.outcome = "interrupted";
    } else if (e.type === "step.succeeded" || e.type === "step.failed") {
      o.finishedAt = e.at;
      o.durationMs = o.startedAt ? Date.parse(e.at) - Date.parse(o.startedAt) : 0;
      if (e.type === "step.failed") {
        o.outcome = "failed";
        o.error = errorOf(e.payload.error);
      } else if (typeof e.payload.skipped === "string") {
        o.outcome = "skipped";
        o.skipped = e.payload.skipped;
      } else {
        o.outcome = "succeeded";
      }
    }
  }
  return [...byStep.values()];
}

/** The result of a run from its events and folded snapshot. */
export function runResult(runId: string, events: readonly JournalEvent[], snapshot: UpgradeSnapshot): RunResult {
  const ctx = snapshot.context;
  const state: RunState = snapshot.status === "done" ? (snapshot.value as TerminalState) : "running";
  const closing = events.find((e) => e.type === "run.failed");
  const steps = stepOutcomes(events);
  const atStep =
    state === "completed"
      ? null
      : typeof snapshot.value === "string" && state === "running"
        ? (snapshot.value as StepName)
        : (steps.at(-1)?.step ?? null);
  const request = runRequestOf(events[0]?.payload);
  return {
    runId,
    kind: request.kind,
    restoreOf: request.restoreOf?.runId ?? null,
    state,
    step: atStep,
    fromVersion: ctx.fromVersion,
    toVersion: ctx.toVersion,
    steps,
    failure: ctx.failure,
    rollbackFailure: ctx.rollbackFailure,
    instructions: Array.isArray(closing?.payload.instructions) ? (closing.payload.instructions as string[]) : [],
    downtime: downtimeOf(events),
  };
}
