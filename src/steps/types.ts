import type { StepName, UpgradeContext } from "../../machines/index.js";
import type { DatabaseAdapter } from "../adapters/types.js";
import type { ResolvedConfig } from "../config/types.js";
import type { Progress } from "../progress.js";
import type { BuiltInOutputs, StepOutputs } from "./outputs.js";
import type { RestoreSource } from "./restore-source.js";

/** What a step's effect is given: the run, the config, the outputs of earlier steps. */
export interface StepContext {
  readonly runId: string;
  readonly step: StepName;
  /** 1 on the first try; more when the step is re-run after a crash. */
  readonly attempt: number;
  /** When the step was first started in this run (from the journal, so it survives restarts). */
  readonly firstStartedAt: Date;
  readonly config: ResolvedConfig;
  /** The machine's context: versions, earlier outputs, the failure being rolled back. */
  readonly run: UpgradeContext;
  /** In a restore run (`upgrade-machine restore`): the other run's restore point it puts back; absent in an upgrade. */
  readonly restoreOf?: RestoreSource | null;
  /** The run was asked to go on with destructive lint findings (`--allow-destructive`, journaled with the request). */
  readonly allowDestructive?: boolean;
  /** The run's backup folder (0700). */
  readonly backupDir: string;
  /** The database being upgraded, opened on first use and closed when the runner stops. */
  database(): Promise<DatabaseAdapter>;
  /** Reports progress (bytes, migrations, seconds) to subscribers. */
  progress(progress: Progress): void;
  /** A line for the operator (secrets are redacted from it). */
  log(message: string): void;
  /**
   * Redacts secrets from free text that comes from outside (a command's output, a server's
   * message) before a step keeps it in its output. Never use it on paths or other data a later
   * step reads back.
   */
  redact(text: string): string;
  /** Aborted when the runner is asked to stop. */
  readonly signal: AbortSignal;
}

/**
 * The effect behind step `S`. `run` must be idempotent: after a crash at any point inside it,
 * running it again converges. It returns the step's output, of type `O` (`StepOutputs[S]` or a
 * type that extends it, e.g. a preset's), which the runner keeps in the journal as JSON and
 * later steps read back with `outputOf`; or it throws, preferably an UpgradeError with a code.
 */
export interface StepDefinition<S extends StepName = StepName, O extends StepOutputs[S] = StepOutputs[S]> {
  /**
   * Why this step does nothing for this run (journaled as skipped), or undefined to run it. May
   * look (a health probe) but must change nothing: it is asked again after a crash.
   */
  skip?(ctx: StepContext): string | undefined | Promise<string | undefined>;
  run(ctx: StepContext): Promise<O>;
}

/** A built-in step: it returns its `BuiltInOutputs` type. */
export type BuiltInStep<S extends StepName> = StepDefinition<S, BuiltInOutputs[S]>;

/** An effect for every step of the machine, each returning its step's output. */
export type StepImplementations = { [S in StepName]: StepDefinition<S> };

/**
 * A step's effect as the runner drives it: it journals whatever `run` returns as JSON and reads
 * no output itself. `StepImplementations` are step effects; so are test doubles, whose outputs
 * no real step reads.
 */
export interface StepEffect {
  skip?(ctx: StepContext): string | undefined | Promise<string | undefined>;
  run(ctx: StepContext): Promise<unknown>;
}

/** What the runner is given: an effect for every step. */
export type StepEffects = Record<StepName, StepEffect>;
