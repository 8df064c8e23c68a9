import { hostname } from "node:os";
import type { StepName, UpgradeContext } from "../../machines/index.js";
import type { TargetLock } from "../adapters/types.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { RunJournal } from "../journal/journal.js";
import type { JournalStore } from "../journal/types.js";
import { maybeOutputOf } from "../steps/output-of.js";
import { foldJournal } from "./fold.js";
import { acquireLease } from "./lease.js";
import { runResult, type RunResult } from "./result.js";
import { runOfTarget } from "./target-runs.js";

/** What `abandon` needs: the journal, the target's key and lock, and how to describe what is left. */
export interface AbandonOptions {
  store: JournalStore;
  target: string;
  lockTarget?: () => Promise<TargetLock>;
  /** The commands a person runs to finish by hand, from the run's context. */
  instructions: (run: UpgradeContext) => Promise<string[]>;
}

/** An abandoned run and what the target was left in. */
export interface AbandonResult extends RunResult {
  /** Where the run left the target: service, database, restore point; then the commands to finish by hand. */
  report: string[];
}

/**
 * Ends an unfinished run by journaling `run.abandoned` with the reason. Refused (E_BUSY) while a
 * live orchestrator holds the target lock or the lease; refused (E_USAGE) for a run that already
 * ended; E_NOT_FOUND for a run of another target. Changes nothing on the target.
 */
export async function abandonRun(options: AbandonOptions, runId: string, reason: string): Promise<AbandonResult> {
  if (!reason.trim())
    throw new UpgradeError("E_USAGE", "abandon needs a reason", { hint: 'pass `--reason "..."`: it is kept in the journal' });
  let lock: TargetLock | undefined;
  try {
    lock = await options.lockTarget?.();
  } catch (err) {
    // A target that cannot be reached (the reason to abandon, often) is driven by nobody now;
    // one locked by a live orchestrator is.
    if (isUpgradeError(err, "E_BUSY")) throw err;
  }
  try {
    await runOfTarget(options.store, runId, options.target, lock?.identity ?? null);
    const lease = await acquireLease(options.store, options.target, runId);
    try {
      const journal = await RunJournal.open(options.store, runId);
      const before = foldJournal(journal.events);
      if (before.status !== "active") {
        throw new UpgradeError("E_USAGE", `run ${runId} already ended (${String(before.value)})`, {
          hint: "only an unfinished run can be abandoned",
        });
      }
      await lease.ensure();
      await journal
        .fenceWith({ target: options.target, owner: lease.owner })
        .append({ type: "run.abandoned", payload: { reason, at: String(before.value), by: `${hostname()}:${process.pid}` } });
      const after = foldJournal(journal.events);
      return {
        ...runResult(runId, journal.events, after),
        report: await leftIn(before.context, String(before.value), options.instructions),
      };
    } finally {
      await lease.release().catch(() => undefined);
    }
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

function succeeded(run: UpgradeContext, step: StepName): boolean {
  return run.outputs[step] !== undefined && run.skipped[step] === undefined;
}

/** Where an abandoned run left the target, in words, from the journal alone. */
async function leftIn(run: UpgradeContext, at: string, instructions: (run: UpgradeContext) => Promise<string[]>): Promise<string[]> {
  const lines = [`The run was abandoned at ${at}.`];
  const stopped = succeeded(run, "stop");
  const restarted = succeeded(run, "start") || succeeded(run, "startPrevious") || succeeded(run, "restartService");
  if (stopped && !restarted) lines.push("The service was stopped by this run and was not started again.");
  if (succeeded(run, "start")) lines.push(`The new version${run.toVersion ? ` (${run.toVersion})` : ""} was started by this run.`);
  if (run.attempts.upgradePackage && !succeeded(run, "reinstallPrevious"))
    lines.push(
      `The package may be at the new version${run.toVersion ? ` ${run.toVersion}` : ""} (installed version before the run: ${run.fromVersion ?? "unknown"}).`,
    );
  if (succeeded(run, "restoreDatabase")) lines.push("The database was restored to the restore point.");
  else if (run.attempts.migrate) lines.push("The database may be partly migrated: migrate started and the database was not restored.");
  else lines.push("The database was not migrated by this run.");
  const seal = await unlessUnreadable(lines, () => maybeOutputOf(run, "seal"));
  const hot = await unlessUnreadable(lines, () => maybeOutputOf(run, "backup"));
  if (seal) lines.push(`The restore point (exact as of the stop) is ${seal.restorePoint.path}.`);
  else if (hot?.database) lines.push(`The hot backup (taken before the stop) is ${hot.database.path}.`);
  const manual = run.attempts.stop || run.attempts.seal ? await unlessUnreadable(lines, () => instructions(run)) : [];
  return [...lines, ...(manual ?? [])];
}

/**
 * What `read` returns; an output the journal holds in a shape this version does not read is
 * said in the report instead of thrown: abandon is how a run that cannot be resumed is ended.
 */
async function unlessUnreadable<T>(lines: string[], read: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (!isUpgradeError(err, "E_JOURNAL_MISMATCH")) throw err;
    lines.push(`${err.summary}: look for the backups in the run's backup folder.`);
    return undefined;
  }
}
