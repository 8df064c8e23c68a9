import { openAdapter } from "./adapters/registry.js";
import { UpgradeError, isUpgradeError, type ErrorCode } from "./errors.js";
import { RunJournal } from "./journal/journal.js";
import { latestRun } from "./journal/latest-run.js";
import type { JournalEvent, JournalStore, RunRecord } from "./journal/types.js";
import { foldJournal } from "./runner/fold.js";
import { runResult, type RunResult } from "./runner/result.js";
import { abandonRun, type AbandonResult } from "./runner/abandon.js";
import { resumeRun, startRun } from "./runner/runner.js";
import { runOfTarget } from "./runner/target-runs.js";
import { manualInstructions } from "./steps/manual.js";
import { keyOf, resolveInput, runnerOptions, withJournal, type ConfigInput, type DriveOptions } from "./session.js";
import { requestChecks } from "./steps/preflight.js";

export type { ConfigInput, DriveOptions } from "./session.js";
export { listBackups, type BackupInfo } from "./backups/list.js";
export { pruneBackups, type PruneResult } from "./backups/prune.js";
export type { RunResult } from "./runner/result.js";

/** Options of `upgrade()`. */
export interface UpgradeOptions extends DriveOptions {
  /** The version to install: `{toVersion}` in commands; checked against `package.version` after. */
  toVersion?: string | null;
  /** Go on when the lint finds migrations that destroy data (journaled with the request, so a resume keeps it). */
  allowDestructive?: boolean;
}

/**
 * Runs a whole upgrade: preflight, backup, announce, grace, stop, seal, upgrade the package,
 * migrate, verify, start, health; rolls back on failure. Resolves with the final state
 * (`completed`, `rolledBack`, `aborted` or `failed`); throws only when no run could start
 * (E_CONFIG, E_BUSY, E_UNFINISHED...).
 */
export async function upgrade(config: ConfigInput, options: UpgradeOptions = {}): Promise<RunResult> {
  const resolved = await resolveInput(config, options.cwd);
  requestChecks(resolved, options.toVersion ?? null);
  return withJournal(
    resolved,
    async (store) =>
      startRun(await runnerOptions(resolved, store, options), {
        toVersion: options.toVersion ?? null,
        ...(options.allowDestructive ? { allowDestructive: true } : {}),
      }),
    { create: true },
  );
}

/**
 * Puts run `runId`'s restore point back (database and files) and reinstalls the version that ran
 * before that run, as a run of its own with an upgrade's guarantees: journaled, resumable, its
 * own backup and restore point of the present state first (a failed restore rolls back to it),
 * then stop, reinstall, restore, proof, start, health. Refused before anything is journaled or
 * touched for a run of another target (E_NOT_FOUND), an unfinished one (E_UNFINISHED), one with
 * no restore point or a pruned one (E_NOT_FOUND), and a restore point that fails its sha256
 * (E_RESTORE). Resolves with the final state, as `upgrade()` does.
 */
export async function restore(config: ConfigInput, options: DriveOptions & { runId: string }): Promise<RunResult> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => startRun(await runnerOptions(resolved, store, options), { restoreOf: options.runId }), {
    create: true,
  });
}

/** Continues an interrupted run (the latest of the target, or `runId`) from its journal. */
export async function resume(config: ConfigInput, options: DriveOptions & { runId?: string } = {}): Promise<RunResult> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) =>
    resumeRun(await runnerOptions(resolved, store, options), options.runId ? { runId: options.runId } : {}),
  );
}

/** The state of the latest run (or `runId`), folded from the journal; `none` when there is none. */
export async function status(
  config: ConfigInput,
  options: { cwd?: string; runId?: string } = {},
): Promise<RunResult | { state: "none"; runId: null; step: null; fromVersion: null; toVersion: null }> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => {
    const runId = await chosenRun(store, await keyOf(resolved), options.runId);
    if (!runId) return { state: "none" as const, runId: null, step: null, fromVersion: null, toVersion: null };
    const { events, result } = await readRun(store, runId);
    if (!events.length)
      throw new UpgradeError("E_NOT_FOUND", `run ${runId} does not exist`, { hint: "list runs with `upgrade-machine history`" });
    return result;
  });
}

/**
 * Ends an unfinished run that cannot or must not be resumed: journals `run.abandoned` with the
 * reason and reports where the target was left (service, database, restore point) with the
 * commands to finish by hand. Refused while a live orchestrator drives the target (E_BUSY), for a
 * run of another target (E_NOT_FOUND) and for a run that already ended (E_USAGE).
 */
export async function abandon(config: ConfigInput, options: { cwd?: string; runId: string; reason: string }): Promise<AbandonResult> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) =>
    abandonRun(
      {
        store,
        target: await keyOf(resolved),
        lockTarget: async () => (await openAdapter(resolved.target, resolved.backup)).lockTarget(),
        instructions: (run) => manualInstructions(resolved, run),
      },
      options.runId,
      options.reason,
    ),
  );
}

/** `runId` when it is a run of this target (E_NOT_FOUND otherwise), or the target's latest run. */
async function chosenRun(store: JournalStore, target: string, runId: string | undefined): Promise<string | undefined> {
  if (runId) return (await runOfTarget(store, runId, target)).runId;
  return (await latestRun(store, target))?.runId;
}

/** A run's events, hash chain verified (E_JOURNAL_TAMPERED), and its state folded from them. */
async function readRun(store: JournalStore, runId: string): Promise<{ events: JournalEvent[]; result: RunResult }> {
  const { events } = await RunJournal.open(store, runId);
  return { events: [...events], result: runResult(runId, events, foldJournal(events)) };
}

/** The runs of the config's target, newest first. */
export async function listRuns(config: ConfigInput, options: { cwd?: string } = {}): Promise<RunRecord[]> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => store.runs(await keyOf(resolved)));
}

/**
 * The events of one run (default: the latest), hash chain verified (E_JOURNAL_TAMPERED), and
 * the run's state folded from them (null when there is no run).
 */
export async function history(
  config: ConfigInput,
  options: { cwd?: string; runId?: string } = {},
): Promise<{ runId: string | null; events: JournalEvent[]; result: RunResult | null }> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => {
    const runId = await chosenRun(store, await keyOf(resolved), options.runId);
    if (!runId) return { runId: null, events: [], result: null };
    return { runId, ...(await readRun(store, runId)) };
  });
}

/** One run of the target as `listRunResults()` gives it. */
export interface RunListing {
  runId: string;
  /** When the run was requested (ISO-8601, the journal's time). */
  createdAt: string;
  /** The run's state folded from its journal; null when the journal cannot be trusted. */
  result: RunResult | null;
  /** From the first event to the last, by the journal's times. */
  durationMs: number | null;
  /** E_JOURNAL_TAMPERED or E_JOURNAL_MISMATCH: why `result` is null. */
  problem: { code: ErrorCode; message: string; hint?: string } | null;
}

/**
 * Every run of the config's target, newest first, each folded from its journal (the hash chain
 * verified) in one opening of the journal. A run whose journal cannot be trusted is listed with
 * its `problem` instead of a state; other errors are thrown.
 */
export async function listRunResults(config: ConfigInput, options: { cwd?: string } = {}): Promise<RunListing[]> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => {
    const out: RunListing[] = [];
    for (const run of await store.runs(await keyOf(resolved))) {
      const listing = { runId: run.runId, createdAt: run.createdAt };
      try {
        const { events, result } = await readRun(store, run.runId);
        // the run's own events: a later `backup.pruned` is not part of its duration
        const last = [...events].reverse().find((e) => e.type !== "backup.pruned");
        const durationMs = last ? Date.parse(last.at) - Date.parse(events[0]!.at) : null;
        out.push({ ...listing, result, durationMs, problem: null });
      } catch (err) {
        if (!isUpgradeError(err, "E_JOURNAL_TAMPERED") && !isUpgradeError(err, "E_JOURNAL_MISMATCH")) throw err;
        out.push({
          ...listing,
          result: null,
          durationMs: null,
          problem: { code: err.code, message: err.summary, ...(err.hint ? { hint: err.hint } : {}) },
        });
      }
    }
    return out;
  });
}

export { plan, type Plan } from "./plan/plan.js";
