export {
  fleetCommand,
  fleetHistory,
  fleetStatus,
  fleetWork,
  rollout,
  type FleetCommand,
  type RolloutOptions,
  type RolloutResult,
} from "./api.js";
export { defineFleet } from "./define.js";
export { loadFleet, planWaves, type FleetInput } from "./load.js";
export type { RolloutStatus, RolloutStatusState } from "./status.js";
export type { FleetConfig, FleetTarget, ResolvedFleet, WaveSpec } from "./types.js";
export type { RolloutRunnerEvent, WorkOptions } from "./worker.js";
