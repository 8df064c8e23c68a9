import { createActor, transition, type Actor, type InspectionEvent, type Observer } from "xstate";
import { CLOSING_EVENTS, upgradeMachine, type ClosedState, type Json, type StepName, type UpgradeContext } from "../../machines/index.js";
import type { DatabaseAdapter, TargetLock } from "../adapters/types.js";
import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError, errorRecord } from "../errors.js";
import { RunJournal } from "../journal/journal.js";
import { latestRun } from "../journal/latest-run.js";
import type { JournalEvent, JournalStore } from "../journal/types.js";
import type { Progress } from "../progress.js";
import { toJson } from "../steps/output-of.js";
import type { StepContext, StepEffects } from "../steps/types.js";
import { currentStep, foldJournal, toMachineEvent, type UpgradeSnapshot } from "./fold.js";
import type { HeldLease } from "./lease.js";
import { restorableSource } from "./restorable.js";
import { held, newRunId, runOfTarget, unfinishedRun } from "./target-runs.js";
import { runRequestOf, type RestoreSource, type RunRequestRecord } from "../steps/restore-source.js";
import { runResult, type RunResult } from "./result.js";
import type { RunnerEvent } from "./runner-events.js";

/** What the runner needs: where the journal is, what each step does, and who listens. */
export interface RunnerOptions {
  store: JournalStore;
  config: ResolvedConfig;
  /** Secret-free key of the database in the journal: its runs and lease (see `targetKey`). */
  target: string;
  /**
   * Takes the lock on the target itself (E_BUSY when another orchestrator holds it, from any
   * config or journal), held for the whole drive; absent in harnesses without a real target.
   */
  lockTarget?: () => Promise<TargetLock>;
  steps: StepEffects;
  /** The effects of a restore run (`restore()`): `steps` with the restore's in place of upgradePackage, migrate and verify. */
  restoreSteps?: StepEffects;
  openDatabase: () => Promise<DatabaseAdapter>;
  /** The folder under which each run gets its backup folder. */
  backupRoot: string;
  onEvent?: (event: RunnerEvent) => void;
  /** An XState inspection observer; it sees a real actor of the upgrade machine. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called after each event is durable; crash tests kill the process here. */
  afterAppend?: (event: JournalEvent) => void;
  /** What a person must do when the rollback failed, from the run's context. */
  instructions?: (run: UpgradeContext) => Promise<string[]>;
  /**
   * Removes secrets from free text (error messages, log lines). Never applied to step outputs:
   * a step redacts the outside text it keeps (commands' output) itself.
   */
  redact?: (text: string) => string;
  leaseTtlMs?: number;
  /** Asks the run to stop: the step in progress is interrupted and fails (journaled), as a Ctrl-C does. */
  signal?: AbortSignal;
  /**
   * An outer hold on the target (a fleet worker's claim). When it aborts, as when the run's own
   * lease is lost or runs out, the step in progress is stopped (its command's process group
   * ended) and nothing more is journaled: the run throws the abort's reason (E_BUSY) and another
   * driver resumes it from its journal.
   */
  hold?: AbortSignal;
}

/**
 * Thrown by a test double to stop the runner dead, as a crash would: nothing more is written.
 * Any other error thrown by a step is that step's failure.
 */
export class SimulatedCrash extends Error {
  constructor(message = "simulated crash") {
    super(message);
    this.name = "SimulatedCrash";
  }
}

/** What a new run is asked to do: an upgrade to `toVersion`, or the restore of run `restoreOf`'s restore point. */
export type RunRequest = { toVersion: string | null; allowDestructive?: boolean } | { restoreOf: string };

/**
 * Starts a new run; refuses with E_UNFINISHED while the target has an unfinished run. A restore
 * is refused before anything is journaled when its source is not restorable (`restorableSource`);
 * its `run.requested` holds the kind and the restore point, so a resume needs nothing else.
 */
export async function startRun(options: RunnerOptions, request: RunRequest): Promise<RunResult> {
  return held(options, null, async (lease, lock) => {
    const identity = lock?.identity ?? null;
    const previous = await unfinishedRun(options.store, options.target, identity);
    if (previous) {
      throw new UpgradeError("E_UNFINISHED", `run ${previous.runId} of ${options.config.name} is unfinished (at ${previous.at})`, {
        hint: "continue it with `upgrade-machine resume` (or end it with `upgrade-machine abandon`); a new run cannot start before it ends",
        details: { runId: previous.runId },
      });
    }
    const restore: RestoreSource | null = "restoreOf" in request ? await restorableSource(options, request.restoreOf, identity) : null;
    const toVersion = restore ? restore.version : (request as { toVersion: string | null }).toVersion;
    const runId = newRunId();
    await lease.ensure();
    const journal = await RunJournal.create(
      options.store,
      { runId, target: options.target, name: options.config.name, createdAt: new Date().toISOString(), identity },
      {
        target: options.target,
        toVersion,
        name: options.config.name,
        ...(identity ? { identity } : {}),
        ...(restore ? { kind: "restore", restoreOf: toJson(restore) } : {}),
        ...("allowDestructive" in request && request.allowDestructive ? { allowDestructive: true } : {}),
      },
    );
    options.afterAppend?.(journal.events[0]!);
    return drive(options, journal, lease, true);
  });
}

/** Continues the given run (refused when it is another target's), or the target's latest, from where its journal ends. */
export async function resumeRun(options: RunnerOptions, request: { runId?: string } = {}): Promise<RunResult> {
  return held(options, request.runId ?? null, async (lease, lock) => {
    let runId = request.runId;
    if (runId) await runOfTarget(options.store, runId, options.target, lock?.identity ?? null);
    runId ??= (await latestRun(options.store, options.target))?.runId;
    if (!runId) {
      throw new UpgradeError("E_NOT_FOUND", `no run of ${options.config.name} to resume`, { hint: "start one with `upgrade-machine run`" });
    }
    const journal = await RunJournal.open(options.store, runId);
    if (journal.events.length === 0) {
      throw new UpgradeError("E_NOT_FOUND", `run ${runId} does not exist`, { hint: "list runs with `upgrade-machine history`" });
    }
    return drive(options, journal, lease);
  });
}

async function drive(options: RunnerOptions, journal: RunJournal, lease: HeldLease, fresh = false): Promise<RunResult> {
  const { onEvent } = options;
  const request = runRequestOf(journal.events[0]?.payload);
  const steps = request.kind === "restore" ? options.restoreSteps : options.steps;
  if (!steps) throw new UpgradeError("E_USAGE", `run ${journal.runId} is a restore run, which this runner was given no steps for`);
  journal.fenceWith({ target: options.target, owner: lease.owner });
  const runId = journal.runId;
  const redact = options.redact ?? ((s: string) => s);
  let snapshot = foldJournal(journal.events);
  let mirror: Actor<typeof upgradeMachine> | undefined;
  if (options.inspect) {
    // A fresh run is shown from idle, taking run.requested; a resumed one from its restored state.
    mirror = fresh
      ? createActor(upgradeMachine, { inspect: options.inspect })
      : createActor(upgradeMachine, { snapshot, inspect: options.inspect });
    mirror.start();
    if (fresh) mirror.send(toMachineEvent(journal.events[0]!)!);
  }
  let database: DatabaseAdapter | undefined;
  const append = async (event: Parameters<RunJournal["append"]>[0]) => {
    await lease.ensure();
    const written = await journal.append(event);
    options.afterAppend?.(written);
    const machineEvent = toMachineEvent(written);
    if (machineEvent) {
      snapshot = transition(upgradeMachine, snapshot, machineEvent)[0];
      mirror?.send(machineEvent);
    }
    return written;
  };
  try {
    while (snapshot.status === "active") {
      const step = currentStep(snapshot);
      if (!step) throw new UpgradeError("E_JOURNAL_MISMATCH", `run ${runId} is in state ${String(snapshot.value)}, which has no step`);
      const def = steps[step];
      const last = journal.events[journal.events.length - 1];
      const interrupted = last?.type === "step.started" && last.step === step;
      const first = journal.events.find((e) => e.type === "step.started" && e.step === step);
      const ctx = stepContext(
        { ...options, signal: options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal },
        runId,
        step,
        snapshot,
        first ? new Date(first.at) : new Date(),
        async () => (database ??= await options.openDatabase()),
        request,
      );
      const skipped = interrupted ? undefined : await def.skip?.(ctx);
      if (skipped !== undefined) {
        await append({ type: "step.succeeded", step, payload: { output: null, skipped } });
        onEvent?.({ type: "step.finished", runId, step, outcome: "skipped", durationMs: 0, skipped });
        continue;
      }
      const started = await append({ type: "step.started", step, payload: { attempt: ctx.attempt } });
      onEvent?.({ type: "step.started", runId, step, attempt: ctx.attempt, resumed: interrupted });
      let output: Json;
      try {
        output = toJson(await def.run(ctx));
      } catch (err) {
        if (err instanceof SimulatedCrash) throw err;
        // Stopped because the lease (or the claim around it) is gone: not the step's failure, and not ours to journal.
        if (lease.signal.aborted) throw lease.signal.reason;
        const error = errorRecord(err);
        error.message = redact(error.message);
        if (error.hint) error.hint = redact(error.hint);
        if (error.details) error.details = redactStrings(error.details, redact) as Record<string, unknown>;
        const failed = await append({ type: "step.failed", step, payload: { error: toJson(error) } });
        onEvent?.({
          type: "step.finished",
          runId,
          step,
          outcome: "failed",
          durationMs: Date.parse(failed.at) - Date.parse(started.at),
          error,
        });
        continue;
      }
      const done = await append({ type: "step.succeeded", step, payload: { output: output ?? null } });
      onEvent?.({ type: "step.finished", runId, step, outcome: "succeeded", durationMs: Date.parse(done.at) - Date.parse(started.at) });
    }
    const state = snapshot.value as ClosedState | "abandoned";
    const closed = journal.events.some((e) => e.type.startsWith("run.") && e.type !== "run.requested");
    if (state !== "abandoned" && !closed) {
      const instructions = state === "failed" ? ((await options.instructions?.(snapshot.context)) ?? []) : [];
      await append({
        type: CLOSING_EVENTS[state],
        payload: {
          fromVersion: snapshot.context.fromVersion,
          toVersion: snapshot.context.toVersion,
          ...(snapshot.context.failure ? { failure: toJson(snapshot.context.failure) } : {}),
          ...(state === "failed" ? { instructions } : {}),
        },
      });
    }
    onEvent?.({ type: "run.finished", runId, state });
    return runResult(runId, journal.events, snapshot);
  } finally {
    mirror?.stop();
    await database?.close().catch(() => undefined);
  }
}

function stepContext(
  options: RunnerOptions,
  runId: string,
  step: StepName,
  snapshot: UpgradeSnapshot,
  firstStartedAt: Date,
  database: () => Promise<DatabaseAdapter>,
  request: RunRequestRecord,
): StepContext {
  const onEvent = options.onEvent;
  return {
    runId,
    step,
    attempt: (snapshot.context.attempts[step] ?? 0) + 1,
    firstStartedAt,
    config: options.config,
    run: snapshot.context,
    ...(request.restoreOf ? { restoreOf: request.restoreOf } : {}),
    ...(request.allowDestructive ? { allowDestructive: true } : {}),
    backupDir: `${options.backupRoot}/${runId}`,
    database,
    progress: (progress: Progress) => onEvent?.({ type: "step.progress", runId, step, progress }),
    log: (message: string) => onEvent?.({ type: "log", runId, step, message: options.redact ? options.redact(message) : message }),
    redact: options.redact ?? ((text: string) => text),
    signal: options.signal ?? new AbortController().signal,
  };
}

/** Every string inside a JSON value redacted; keys, numbers and structure untouched. */
function redactStrings(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, redact));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, redact)]));
  return value;
}
