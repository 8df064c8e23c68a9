import type { Json, StepName, UpgradeContext } from "../../machines/index.js";
import { UpgradeError } from "../errors.js";
import { describeMismatch, type Guard } from "./json-guard.js";
import { OUTPUT_GUARDS } from "./output-guards.js";
import type { StepOutputs } from "./outputs.js";
import type { StepContext } from "./types.js";

/** A check for every step's output; a preset's checks may be stricter where its outputs extend the general ones. */
export type OutputGuards<M extends StepOutputs> = { [S in StepName]: Guard<M[S]> };

/** Reads step outputs back from the machine's context, typed by a map of output types. */
export interface OutputReader<M extends StepOutputs> {
  /** The output of an earlier step; E_JOURNAL_MISMATCH when the journal has none (or a skip) or one of another shape. */
  outputOf<S extends StepName>(ctx: StepContext, step: S): M[S];
  /** The output of a step when it succeeded, undefined when it did not run or was skipped; E_JOURNAL_MISMATCH when it has another shape. */
  maybeOutputOf<S extends StepName>(run: UpgradeContext, step: S): M[S] | undefined;
}

/**
 * The one way outputs are read back: each is checked against its step's guard, so what the
 * journal holds is typed by a check. Use `outputOf`/`maybeOutputOf` below; a preset whose
 * outputs extend the general ones makes its own reader with its own map and checks.
 */
export function outputReader<M extends StepOutputs>(guards: OutputGuards<M>): OutputReader<M> {
  const maybeOutputOf = <S extends StepName>(run: UpgradeContext, step: S): M[S] | undefined => {
    const out = run.outputs[step];
    if (out === undefined || out === null) return undefined;
    const where: string[] = [];
    const guard: Guard<M[S]> = guards[step];
    if (guard(out, where)) return out;
    const mismatch = describeMismatch(where);
    throw new UpgradeError(
      "E_JOURNAL_MISMATCH",
      `the journal's output of ${step} is not what this version of upgrade-machine reads: ${mismatch}`,
      {
        hint: "the run was written by another version of upgrade-machine or by a replaced step: finish it with that version, or by hand from its backup folder",
        details: { step, mismatch },
      },
    );
  };
  const outputOf = <S extends StepName>(ctx: StepContext, step: S): M[S] => {
    const out = maybeOutputOf(ctx.run, step);
    if (out === undefined) {
      throw new UpgradeError("E_JOURNAL_MISMATCH", `step ${ctx.step} needs the output of ${step}, which the journal does not have`, {
        hint: `the journal is incomplete; finish the run by hand from the backup folder ${ctx.backupDir}`,
      });
    }
    return out;
  };
  return { outputOf, maybeOutputOf };
}

/** The general reader: every step's output typed by `StepOutputs`. */
export const { outputOf, maybeOutputOf } = outputReader<StepOutputs>(OUTPUT_GUARDS);

/** Whether the service ran before the run (unknown counts as running, the safe side). */
export function serviceWasRunning(ctx: StepContext): boolean {
  return maybeOutputOf(ctx.run, "preflight")?.serviceWasRunning !== false;
}

/**
 * A step's output as the journal stores it: the one conversion from a step's typed output to
 * JSON (fields that are undefined are dropped, as `JSON.stringify` does), made by the runner.
 */
export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
