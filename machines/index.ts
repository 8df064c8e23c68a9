export { upgradeMachine, type UpgradeMachine } from "./upgrade-machine.js";
export * from "./steps.js";
export type { Json, StepError, UpgradeContext, UpgradeEvent } from "./events.js";
