import { join } from "node:path";
import type { InspectionEvent, Observer } from "xstate";
import { openAdapter, openJournalStore, targetKey } from "./adapters/registry.js";
import { loadConfig } from "./config/load.js";
import { resolveConfig } from "./config/resolve.js";
import type { ResolvedConfig, UpgradeConfig } from "./config/types.js";
import { validateConfig } from "./config/validate.js";
import { emptyJournal } from "./journal/empty-store.js";
import type { JournalEvent, JournalStore } from "./journal/types.js";
import { expandPreset, presetSteps } from "./presets/registry.js";
import type { RunnerOptions } from "./runner/runner.js";
import type { RunnerEvent } from "./runner/runner-events.js";
import { defaultSteps } from "./steps/index.js";
import { manualInstructions } from "./steps/manual.js";
import { restoreRunSteps } from "./steps/restore-run.js";
import type { StepImplementations } from "./steps/types.js";
import { redactSecrets } from "./url.js";

/** A config file path, a config object (paths relative to `cwd`), or an already resolved config. */
export type ConfigInput = string | UpgradeConfig | ResolvedConfig;

/** Options shared by every entry point that drives a run. */
export interface DriveOptions {
  /** Resolves relative config paths; default `process.cwd()`. */
  cwd?: string;
  /** Progress and step events. */
  onEvent?: (event: RunnerEvent) => void;
  /** An XState inspection observer; it sees a real actor of the upgrade machine. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Replaces the effect of any step with your own (same contract: idempotent, coded errors). */
  steps?: Partial<StepImplementations>;
  /**
   * Called after each journal event is durable (default: nothing). The library never reads
   * UPGRADE_MACHINE_CRASH_AFTER; pass `crashPointFromEnv()` from `upgrade-machine/testing` to
   * rehearse crashes, as the CLI does.
   */
  afterAppend?: (event: JournalEvent) => void;
  /** Asks the run to stop: the step in progress is interrupted and fails (journaled), as a Ctrl-C does. */
  signal?: AbortSignal;
  /**
   * An outer hold on the target (a fleet worker's claim): when it aborts, the step in progress is
   * stopped and nothing more is journaled (the run throws E_BUSY), as when the run's lease is lost.
   */
  hold?: AbortSignal;
  /** Lease time-to-live in ms (default 30 s). */
  leaseTtlMs?: number;
}

/** Loads, validates and resolves any form of config. */
export async function resolveInput(input: ConfigInput, cwd = process.cwd()): Promise<ResolvedConfig> {
  if (typeof input === "string") return loadConfig(input, cwd);
  if ("target" in input && "baseDir" in input) return input;
  return resolveConfig(validateConfig(expandPreset(input, cwd)), cwd, null);
}

/** Every secret of a config (database and journal passwords), for redaction. */
export function secretsOf(config: ResolvedConfig): string[] {
  return [config.target, config.journalTarget].flatMap((t) => ("password" in t && t.password ? [t.password] : []));
}

/**
 * The redaction of free text for a config: its passwords, except inside paths and names the
 * config itself holds (a password that is also a word of a path must never change the path).
 */
export function redactorOf(config: ResolvedConfig): (text: string) => string {
  const secrets = secretsOf(config);
  // Absolute paths (the database file's among them) are protected by `redactSecrets` itself.
  const protect = [config.name, config.baseDir, config.stateDir, ...config.files];
  return (text) => redactSecrets(text, secrets, protect);
}

/**
 * Opens the journal for a config, runs `fn`, closes it. Only a command that starts a run
 * (`create`) makes a missing SQLite journal; the others see an empty one and change nothing.
 */
export async function withJournal<T>(
  config: ResolvedConfig,
  fn: (store: JournalStore) => Promise<T>,
  options: { create?: boolean } = {},
): Promise<T> {
  const store = (await openJournalStore(config.journalTarget, { create: options.create ?? false })) ?? emptyJournal(config.journal);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The effect of every step for a config: built-in, then the preset's, then the caller's. */
export function stepsFor(config: ResolvedConfig, overrides: Partial<StepImplementations> = {}): StepImplementations {
  return { ...defaultSteps, ...presetSteps(config), ...overrides };
}

/** The key the journal files the config's target under (see each dialect's `targetKey`). */
export function keyOf(config: ResolvedConfig): Promise<string> {
  return targetKey(config.target);
}

/** The runner's options for a config. */
export async function runnerOptions(config: ResolvedConfig, store: JournalStore, options: DriveOptions): Promise<RunnerOptions> {
  return {
    store,
    config,
    target: await keyOf(config),
    lockTarget: async () => (await openAdapter(config.target, config.backup)).lockTarget(),
    steps: stepsFor(config, options.steps),
    restoreSteps: restoreRunSteps(stepsFor(config, options.steps)),
    openDatabase: () => openAdapter(config.target, config.backup),
    backupRoot: join(config.stateDir, "backups"),
    instructions: (run) => manualInstructions(config, run),
    redact: redactorOf(config),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.inspect ? { inspect: options.inspect } : {}),
    ...(options.afterAppend ? { afterAppend: options.afterAppend } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.hold ? { hold: options.hold } : {}),
    ...(options.leaseTtlMs ? { leaseTtlMs: options.leaseTtlMs } : {}),
  };
}
