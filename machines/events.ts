import type { StepName } from "./steps.js";

/** A JSON value, as stored in the journal. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A failure as the journal keeps it: a code, a message, the next step. No stack, no secret. */
export interface StepError {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

/** The events the machine folds; they are the journal's event types. */
export type UpgradeEvent =
  | { type: "run.requested"; runId: string; target: string; toVersion: string | null }
  | { type: "step.started"; step: StepName; attempt: number }
  | { type: "step.succeeded"; step: StepName; output: Json; skipped?: string }
  | { type: "step.failed"; step: StepName; error: StepError }
  | { type: "run.abandoned"; reason: string };

/** What the machine remembers of a run: versions, step outputs and the failure that turned it. */
export interface UpgradeContext {
  runId: string | null;
  target: string | null;
  toVersion: string | null;
  /** The version installed before the run, read by preflight. */
  fromVersion: string | null;
  /** The output of every step that succeeded, by step. */
  outputs: Partial<Record<StepName, Json>>;
  /** Steps journaled as skipped (nothing configured for them), with the reason. */
  skipped: Partial<Record<StepName, string>>;
  /** How many times each step was started (more than once after a resume). */
  attempts: Partial<Record<StepName, number>>;
  /** The failure that sent the run to abort or rollback. */
  failure: { step: StepName; error: StepError } | null;
  /** A failure inside the abort or rollback chain. */
  rollbackFailure: { step: StepName; error: StepError } | null;
}
