import type { StepError, StepName } from "../../machines/index.js";
import type { Progress } from "../progress.js";
import type { RunState } from "./result.js";

/** What a run tells its subscribers while it goes: steps starting, progress, steps finishing. */
export type RunnerEvent =
  | { type: "step.started"; runId: string; step: StepName; attempt: number /** re-run after a crash */; resumed: boolean }
  | { type: "step.progress"; runId: string; step: StepName; progress: Progress }
  | {
      type: "step.finished";
      runId: string;
      step: StepName;
      outcome: "succeeded" | "failed" | "skipped";
      durationMs: number;
      error?: StepError;
      skipped?: string;
    }
  | { type: "log"; runId: string; step: StepName; message: string }
  | { type: "run.finished"; runId: string; state: RunState };
