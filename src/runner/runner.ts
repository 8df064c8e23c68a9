import { randomBytes } from "node:crypto";
import { createActor, transition, type Actor, type InspectionEvent, type Observer } from "xstate";
import { upgradeMachine, type Json, type StepName, type UpgradeContext } from "../../machines/index.js";
import type { DatabaseAdapter } from "../adapters/types.js";
import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError, errorRecord } from "../errors.js";
import { RunJournal } from "../journal/journal.js";
import type { JournalEvent, JournalStore } from "../journal/types.js";
import type { Progress } from "../progress.js";
import type { StepContext, StepImplementations } from "../steps/types.js";
import { currentStep, foldJournal, toMachineEvent, type UpgradeSnapshot } from "./fold.js";
import { acquireLease, type HeldLease } from "./lease.js";
import { runResult, type RunResult } from "./result.js";
import type { RunnerEvent } from "./runner-events.js";

/** What the runner needs: where the journal is, what each step does, and who listens. */
export interface RunnerOptions {
  store: JournalStore;
  config: ResolvedConfig;
  /** Secret-free identity of the database: the lease key. */
  target: string;
  steps: StepImplementations;
  openDatabase: () => Promise<DatabaseAdapter>;
  /** The folder under which each run gets its backup folder. */
  backupRoot: string;
  onEvent?: (event: RunnerEvent) => void;
  /** An XState inspection observer; it sees a real actor of the upgrade machine. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Called after each event is durable; crash tests kill the process here. */
  afterAppend?: (event: JournalEvent) => void;
  /** What a person must do when the rollback failed, from the run's context. */
  instructions?: (run: UpgradeContext) => string[];
  /** Removes secrets from any text that reaches the journal. */
  redact?: (text: string) => string;
  leaseTtlMs?: number;
  signal?: AbortSignal;
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

const TERMINAL_EVENT = { completed: "run.completed", rolledBack: "run.rolledBack", aborted: "run.aborted", failed: "run.failed" } as const;

/** A new run id: sortable by time, unique. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

/** The latest run of the target and its folded state, if any. */
export async function latestRun(store: JournalStore, target: string): Promise<{ journal: RunJournal; snapshot: UpgradeSnapshot } | null> {
  const [latest] = await store.runs(target);
  if (!latest) return null;
  const journal = await RunJournal.open(store, latest.runId);
  return { journal, snapshot: foldJournal(journal.events) };
}

/** Starts a new run; refuses with E_UNFINISHED while the target has an unfinished run. */
export async function startRun(options: RunnerOptions, request: { toVersion: string | null }): Promise<RunResult> {
  const lease = await acquireLease(options.store, options.target, null, options.leaseTtlMs);
  try {
    const previous = await latestRun(options.store, options.target);
    if (previous && previous.snapshot.status === "active") {
      throw new UpgradeError("E_UNFINISHED", `run ${previous.journal.runId} of ${options.config.name} is unfinished (at ${String(previous.snapshot.value)})`, {
        hint: "continue it with `upgrade-machine resume`; a new run cannot start before it ends",
        details: { runId: previous.journal.runId },
      });
    }
    const runId = newRunId();
    const journal = await RunJournal.create(
      options.store,
      { runId, target: options.target, name: options.config.name, createdAt: new Date().toISOString() },
      { target: options.target, toVersion: request.toVersion, name: options.config.name },
    );
    options.afterAppend?.(journal.events[0]!);
    return await drive(options, journal, lease, true);
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** Continues the given run, or the target's latest, from where its journal ends. */
export async function resumeRun(options: RunnerOptions, request: { runId?: string } = {}): Promise<RunResult> {
  const lease = await acquireLease(options.store, options.target, request.runId ?? null, options.leaseTtlMs);
  try {
    const runId = request.runId ?? (await options.store.runs(options.target))[0]?.runId;
    if (!runId) {
      throw new UpgradeError("E_NOT_FOUND", `no run of ${options.config.name} to resume`, { hint: "start one with `upgrade-machine run`" });
    }
    const journal = await RunJournal.open(options.store, runId);
    if (journal.events.length === 0) {
      throw new UpgradeError("E_NOT_FOUND", `run ${runId} does not exist`, { hint: "list runs with `upgrade-machine history`" });
    }
    return await drive(options, journal, lease);
  } finally {
    await lease.release().catch(() => undefined);
  }
}

async function drive(options: RunnerOptions, journal: RunJournal, lease: HeldLease, fresh = false): Promise<RunResult> {
  const { steps, onEvent } = options;
  const runId = journal.runId;
  const redact = options.redact ?? ((s: string) => s);
  let snapshot = foldJournal(journal.events);
  let mirror: Actor<typeof upgradeMachine> | undefined;
  if (options.inspect) {
    // A fresh run is shown from idle, taking run.requested; a resumed one from its restored state.
    mirror = fresh ? createActor(upgradeMachine, { inspect: options.inspect }) : createActor(upgradeMachine, { snapshot, inspect: options.inspect });
    mirror.start();
    if (fresh) mirror.send(toMachineEvent(journal.events[0]!)!);
  }
  let database: DatabaseAdapter | undefined;
  const append = async (event: Parameters<RunJournal["append"]>[0]) => {
    lease.assertHeld();
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
      const ctx = stepContext(options, runId, step, snapshot, first ? new Date(first.at) : new Date(), async () => (database ??= await options.openDatabase()));
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
        output = await def.run(ctx);
      } catch (err) {
        if (err instanceof SimulatedCrash) throw err;
        const error = errorRecord(err);
        error.message = redact(error.message);
        if (error.hint) error.hint = redact(error.hint);
        if (error.details) error.details = JSON.parse(redact(JSON.stringify(error.details)));
        const failed = await append({ type: "step.failed", step, payload: { error: error as unknown as Json } });
        onEvent?.({ type: "step.finished", runId, step, outcome: "failed", durationMs: Date.parse(failed.at) - Date.parse(started.at), error });
        continue;
      }
      const done = await append({ type: "step.succeeded", step, payload: { output: JSON.parse(redact(JSON.stringify(output ?? null))) } });
      onEvent?.({ type: "step.finished", runId, step, outcome: "succeeded", durationMs: Date.parse(done.at) - Date.parse(started.at) });
    }
    const state = snapshot.value as keyof typeof TERMINAL_EVENT | "abandoned";
    const closed = journal.events.some((e) => e.type.startsWith("run.") && e.type !== "run.requested");
    if (state !== "abandoned" && !closed) {
      const instructions = state === "failed" ? (options.instructions?.(snapshot.context) ?? []) : [];
      await append({
        type: TERMINAL_EVENT[state],
        payload: {
          fromVersion: snapshot.context.fromVersion,
          toVersion: snapshot.context.toVersion,
          ...(snapshot.context.failure ? { failure: snapshot.context.failure as unknown as Json } : {}),
          ...(state === "failed" ? { instructions: instructions.map(redact) } : {}),
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
): StepContext {
  const onEvent = options.onEvent;
  return {
    runId,
    step,
    attempt: (snapshot.context.attempts[step] ?? 0) + 1,
    firstStartedAt,
    config: options.config,
    run: snapshot.context,
    backupDir: `${options.backupRoot}/${runId}`,
    database,
    progress: (progress: Progress) => onEvent?.({ type: "step.progress", runId, step, progress }),
    log: (message: string) => onEvent?.({ type: "log", runId, step, message: options.redact ? options.redact(message) : message }),
    signal: options.signal ?? new AbortController().signal,
  };
}
