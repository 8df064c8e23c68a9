import { FORWARD_STEPS, type StepName, type TerminalState } from "../../machines/index.js";
import type { FaultSchedule } from "./faults.js";

/**
 * The rollback chain as DESIGN.md's flow states it, written out here rather than taken from the
 * machine: first stop what the run started, then restore, reinstall, start, verify.
 */
const ROLLBACK_CHAIN: readonly StepName[] = [
  "stopNewVersion",
  "restoreDatabase",
  "restoreFiles",
  "reinstallPrevious",
  "startPrevious",
  "verifyRestore",
];

/** True when the step's effect eventually throws (crashes are resumed and change nothing). */
function fails(schedule: FaultSchedule, step: StepName): boolean {
  for (const f of schedule[step] ?? []) {
    if (f === "throw" || f === "keepsRunning") return true;
    if (f === "ok" || f === "crashAfterResult") return false;
  }
  return false;
}

/**
 * The terminal state a fault schedule must end in, from DESIGN.md's flow written out
 * independently of the machine: the oracle of the property tests.
 */
export function expectedTerminal(schedule: FaultSchedule): TerminalState {
  const firstFailure = FORWARD_STEPS.find((s) => fails(schedule, s));
  if (!firstFailure) return "completed";
  const idx = FORWARD_STEPS.indexOf(firstFailure);
  if (idx < FORWARD_STEPS.indexOf("announce")) return "aborted"; // nothing announced yet: nothing to undo
  if (idx <= FORWARD_STEPS.indexOf("grace")) return "aborted"; // withdraw failing still ends aborted
  if (idx <= FORWARD_STEPS.indexOf("seal")) return fails(schedule, "restartService") ? "failed" : "aborted";
  return ROLLBACK_CHAIN.some((s) => fails(schedule, s)) ? "failed" : "rolledBack";
}

/** The steps whose effect must run, in order, for a schedule (the path through the machine). */
export function expectedPath(schedule: FaultSchedule): StepName[] {
  const path: StepName[] = [];
  for (const s of FORWARD_STEPS) {
    path.push(s);
    if (!fails(schedule, s)) continue;
    const idx = FORWARD_STEPS.indexOf(s);
    if (idx < FORWARD_STEPS.indexOf("announce")) return path;
    if (idx <= FORWARD_STEPS.indexOf("seal")) {
      if (idx > FORWARD_STEPS.indexOf("grace")) {
        path.push("restartService");
        if (fails(schedule, "restartService")) return path;
      }
      path.push("withdrawAnnouncement");
      return path;
    }
    for (const r of ROLLBACK_CHAIN) {
      path.push(r);
      if (fails(schedule, r)) return path;
    }
    return path;
  }
  return path;
}
