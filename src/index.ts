export {
  upgrade,
  resume,
  status,
  history,
  listRuns,
  listRunResults,
  plan,
  listBackups,
  pruneBackups,
  restore,
  abandon,
  type UpgradeOptions,
  type Plan,
  type BackupInfo,
  type PruneResult,
  type RunListing,
} from "./api.js";
export type { ConfigInput, DriveOptions } from "./session.js";
export { defineUpgrade } from "./config/define.js";
export { loadConfig } from "./config/load.js";
export { validateConfig } from "./config/validate.js";
export type { UpgradeConfig, ResolvedConfig, CommandSpec, HttpSpec } from "./config/types.js";
export { UpgradeError, isUpgradeError, type ErrorCode } from "./errors.js";
export type { Progress, OnProgress } from "./progress.js";
export type { RunResult, RunState, StepOutcome } from "./runner/result.js";
export type { AbandonResult } from "./runner/abandon.js";
export type { RunnerEvent } from "./runner/runner-events.js";
export { foldJournal, currentStep, type UpgradeSnapshot } from "./runner/fold.js";
export { defaultSteps, type StepContext, type StepDefinition, type StepImplementations } from "./steps/index.js";
export type {
  DatabaseAdapter,
  BackupArtifact,
  Fingerprint,
  Capabilities,
  TargetLock,
  ChangeMark,
  SkippedMark,
  MarkCheck,
} from "./adapters/types.js";
export { openAdapter } from "./adapters/registry.js";
export { runMigrations, planMigrations } from "./migrations/runner.js";
export { readDrizzleFolder } from "./migrations/drizzle-folder.js";
export type { MigrationDriver, MigrationFile, AppliedMigration } from "./migrations/types.js";
export { openJournal } from "./journal/open.js";
export { verifyChain } from "./journal/hash.js";
export type { JournalStore, JournalEvent, RunRecord, Lease, LeaseRequest, EventType } from "./journal/types.js";
export { parseDatabaseUrl, redactUrl, type DatabaseTarget } from "./url.js";
export { upgradeMachine, STEP_NAMES, FORWARD_STEPS, ROLLBACK_STEPS, ABORT_STEPS, type StepName } from "../machines/index.js";
export { jupyterhub } from "./presets/index.js";
export { writeRunMetrics } from "./metrics/write-run-metrics.js";
export { configSchema } from "./config/schema.js";
export {
  rollout,
  fleetWork,
  fleetStatus,
  fleetHistory,
  fleetCommand,
  defineFleet,
  loadFleet,
  planWaves,
  type FleetCommand,
  type FleetConfig,
  type FleetInput,
  type FleetTarget,
  type ResolvedFleet,
  type RolloutOptions,
  type RolloutResult,
  type RolloutRunnerEvent,
  type RolloutStatus,
  type RolloutStatusState,
  type WaveSpec,
  type WorkOptions,
} from "./fleet/index.js";
export { rolloutMachine, type RolloutEvent, type RolloutContext } from "../machines/index.js";
