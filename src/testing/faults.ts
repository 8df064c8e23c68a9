import fc from "fast-check";
import { STEP_NAMES, type StepName } from "../../machines/index.js";

/**
 * What happens on one attempt of a step:
 * - `ok`: the effect runs and succeeds;
 * - `throw`: the effect fails with a coded error (the machine moves to abort or rollback);
 * - `crashBefore`: the process dies after `step.started` is durable, before the effect;
 * - `crashAfter`: the effect ran, the process dies before its result is journaled;
 * - `crashAfterResult`: the result is durable, the process dies before the next step;
 * - `loseLease`: while the effect runs, another driver takes the lease over: the result must not
 *   be journaled and the runner must stop (E_BUSY) before any further effect;
 * - `renewalFails`: while the effect runs, the journal refuses every renewal until the lease's
 *   time runs out: the same;
 * - `keepsRunning` (stop, stopNewVersion): the service does not stop; the step cannot prove it
 *   down and fails;
 * - `secondInstance` (start, restartService, startPrevious): the service is spawned and the
 *   process dies in the start's settle window, before the result: the resume must adopt the
 *   instance, not start a second one.
 */
export type Fault =
  | "ok"
  | "throw"
  | "crashBefore"
  | "crashAfter"
  | "crashAfterResult"
  | "loseLease"
  | "renewalFails"
  | "keepsRunning"
  | "secondInstance";

/** Faults after which the effect ran but its result was not journaled (the step runs again on resume). */
export const INTERRUPTING: readonly Fault[] = ["crashAfter", "loseLease", "renewalFails", "secondInstance"];

/** The faults of the service itself, and the steps they can happen in. */
export const SERVICE_FAULTS: Readonly<Partial<Record<StepName, Fault>>> = {
  stop: "keepsRunning",
  stopNewVersion: "keepsRunning",
  start: "secondInstance",
  restartService: "secondInstance",
  startPrevious: "secondInstance",
};

/** Per step, the fault of each successive attempt; attempts past the list succeed. */
export type FaultSchedule = Partial<Record<StepName, Fault[]>>;

/** A fault for one attempt, crashes weighted so most schedules still reach deep steps. */
export const faultArbitrary: fc.Arbitrary<Fault> = faultsOf();

function faultsOf(service?: Fault): fc.Arbitrary<Fault> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<Fault>("ok") },
    { weight: 1, arbitrary: fc.constant<Fault>("throw") },
    { weight: 1, arbitrary: fc.constant<Fault>("crashBefore") },
    { weight: 1, arbitrary: fc.constant<Fault>("crashAfter") },
    { weight: 1, arbitrary: fc.constant<Fault>("crashAfterResult") },
    { weight: 1, arbitrary: fc.constant<Fault>("loseLease") },
    { weight: 1, arbitrary: fc.constant<Fault>("renewalFails") },
    ...(service ? [{ weight: 2, arbitrary: fc.constant<Fault>(service) }] : []),
  );
}

/** Fault schedules over every step, forward and rollback, up to `maxAttempts` faults a step. */
export function faultScheduleArbitrary(options: { steps?: readonly StepName[]; maxAttempts?: number } = {}): fc.Arbitrary<FaultSchedule> {
  const steps = options.steps ?? STEP_NAMES;
  const entries = steps.map((s) => [s, fc.array(faultsOf(SERVICE_FAULTS[s]), { maxLength: options.maxAttempts ?? 2 })] as const);
  return fc.record(Object.fromEntries(entries) as Record<StepName, fc.Arbitrary<Fault[]>>, { requiredKeys: [] });
}
