/**
 * The steps of an upgrade, in the order the machine runs them. Names are the contract between
 * the journal (`step.*` events), the machine (state names) and the runner (effects).
 */
export const FORWARD_STEPS = [
  "preflight",
  "backup",
  "lint",
  "rehearse",
  "announce",
  "grace",
  "stop",
  "seal",
  "upgradePackage",
  "migrate",
  "verify",
  "start",
  "health",
] as const;

/** Steps that undo an announcement or a stop when the run fails before anything was changed. */
export const ABORT_STEPS = ["restartService", "withdrawAnnouncement"] as const;

/**
 * Steps that bring the previous version back when the run fails after the service stopped. The
 * first stops whatever the run started: nothing is restored under a live new version.
 */
export const ROLLBACK_STEPS = [
  "stopNewVersion",
  "restoreDatabase",
  "restoreFiles",
  "reinstallPrevious",
  "startPrevious",
  "verifyRestore",
] as const;

/** Every step name. */
export const STEP_NAMES = [...FORWARD_STEPS, ...ABORT_STEPS, ...ROLLBACK_STEPS] as const;

export type ForwardStep = (typeof FORWARD_STEPS)[number];
export type AbortStep = (typeof ABORT_STEPS)[number];
export type RollbackStep = (typeof ROLLBACK_STEPS)[number];
/** The name of one step of the upgrade machine. */
export type StepName = (typeof STEP_NAMES)[number];

/** How a run ended. */
export const TERMINAL_STATES = ["completed", "rolledBack", "aborted", "failed", "abandoned"] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];

/** The terminal states the runner closes with a `run.*` marker (`abandoned` is its own event). */
export type ClosedState = Exclude<TerminalState, "abandoned">;

/**
 * The one map between the terminal states and the journal events that close a run in them: the
 * runner appends `CLOSING_EVENTS[state]` once the machine is final; the fold accepts that event
 * only in that state.
 */
export const CLOSING_EVENTS = {
  completed: "run.completed",
  rolledBack: "run.rolledBack",
  aborted: "run.aborted",
  failed: "run.failed",
} as const satisfies { [S in ClosedState]: `run.${S}` };

/** A journal event that closes a run. */
export type ClosingEvent = (typeof CLOSING_EVENTS)[ClosedState];

/** The terminal state a closing event names, or null when `type` closes nothing. */
export function closedStateOf(type: string): ClosedState | null {
  const entry = Object.entries(CLOSING_EVENTS).find(([, event]) => event === type);
  return entry ? (entry[0] as ClosedState) : null;
}

/** Which part of the flow a step belongs to. */
export type StepPhase = "forward" | "abort" | "rollback";

/** The phase of a step. */
export function phaseOf(step: StepName): StepPhase {
  if ((FORWARD_STEPS as readonly string[]).includes(step)) return "forward";
  if ((ABORT_STEPS as readonly string[]).includes(step)) return "abort";
  return "rollback";
}

/** True when `name` is a step name. */
export function isStepName(name: unknown): name is StepName {
  return typeof name === "string" && (STEP_NAMES as readonly string[]).includes(name);
}
