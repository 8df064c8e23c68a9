export { upgradeMachine, type UpgradeMachine } from "./upgrade-machine.js";
export * from "./steps.js";
export type { Json, StepError, UpgradeContext, UpgradeEvent } from "./events.js";
export { rolloutMachine, ROLLOUT_ENDS, type RolloutEnd, type RolloutMachine } from "./rollout-machine.js";
export * from "./rollout-rules.js";
export type { FleetTargetEnd, FleetTargetState, RolloutContext, RolloutEvent, RolloutWave } from "./rollout-events.js";
