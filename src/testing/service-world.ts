import type { StepName, TerminalState } from "../../machines/index.js";
import { UpgradeError } from "../errors.js";
import type { Fault } from "./faults.js";

/** A version of the simulated service. */
export type Version = "old" | "new";

/**
 * The service of a simulated run, as the real steps see it: what runs now, and every breach of
 * "at most one version runs; nothing is restored under a live process; the run ends with the
 * version its state promises".
 */
export interface ServiceWorld {
  /** One entry per running instance. */
  instances: Version[];
  /** Each breach, in words. */
  violations: string[];
}

const STARTS: Partial<Record<StepName, Version>> = { start: "new", restartService: "old", startPrevious: "old" };

/** A new world: the old version runs, once. */
export function serviceWorld(): ServiceWorld {
  return { instances: ["old"], violations: [] };
}

/**
 * The effect of a service step on the world, with the contract of the real steps: a start adopts
 * an instance of its version that already runs (after a crash in its settle window) instead of
 * starting another; a stop proves the service down or fails (`keepsRunning`: it stays up);
 * `stopNewVersion` stops whatever runs; the restore checks that nothing runs.
 */
export function serviceEffect(world: ServiceWorld, step: StepName, fault: Fault): void {
  const version = STARTS[step];
  if (version) {
    if (!world.instances.includes(version)) world.instances.push(version);
  } else if (step === "stop" || step === "stopNewVersion") {
    if (fault === "keepsRunning") throw new UpgradeError("E_TIMEOUT", `simulated: the service still answers after ${step}`);
    world.instances = [];
  } else if (step === "restoreDatabase" && world.instances.length > 0) {
    world.violations.push(`restoreDatabase ran while ${world.instances.join(" and ")} ran`);
  }
  if (world.instances.length > 1)
    world.violations.push(`after ${step}: ${world.instances.length} instances (${world.instances.join(", ")})`);
}

/** The breach, if any, of what a final state promises about the service. */
export function finalBreach(world: ServiceWorld, state: TerminalState | "running"): string | null {
  const want: Version[] | null = state === "completed" ? ["new"] : state === "rolledBack" || state === "aborted" ? ["old"] : null;
  if (want === null || JSON.stringify(world.instances) === JSON.stringify(want)) return null;
  return `${state} with ${JSON.stringify(world.instances)} running, not ${JSON.stringify(want)}`;
}
