import { hostname } from "node:os";
import { join } from "node:path";
import { openAdapter } from "../adapters/registry.js";
import type { DatabaseAdapter } from "../adapters/types.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { removeCounted } from "../fs/durable.js";
import { RunJournal } from "../journal/journal.js";
import type { JournalStore, RunRecord } from "../journal/types.js";
import { foldJournal } from "../runner/fold.js";
import { PRUNED_EVENT, prunedAt } from "../runner/pruned.js";
import { held } from "../runner/target-runs.js";
import { runRequestOf } from "../steps/restore-source.js";
import { keyOf, resolveInput, withJournal, type ConfigInput } from "../session.js";
import { backupsOf, type RunBackup } from "./list.js";
import { parseAge } from "./age.js";

/** A run whose backups `pruneBackups` deleted. */
export interface PrunedRun {
  runId: string;
  /** The backups deleted (paths as the journal holds them). */
  paths: string[];
  /** The bytes freed: files removed and, on PostgreSQL, template copies dropped. */
  bytes: number;
}

/** What `pruneBackups` did. */
export interface PruneResult {
  pruned: PrunedRun[];
  /** The runs whose backups were kept, and why. */
  kept: { runId: string; why: string }[];
  freedBytes: number;
}

/** A run of the target with backups, as prune sees it. */
interface Candidate {
  run: RunRecord;
  backups: RunBackup[];
  /** Why it must be kept whatever `--keep` says; null when it may go. */
  mustKeep: string | null;
  pruned: boolean;
  /** Its journal cannot be read: kept, and not counted among the newest. */
  unreadable: boolean;
}

/** Run ids as `newRunId` makes them: nothing else is ever removed as a run's backup folder. */
const RUN_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$/;

/**
 * Deletes the backups of the target's runs beyond the newest `keep` runs that have some, and
 * (with `olderThan`, e.g. `30d`) only those taken longer ago. Never an unfinished run's, the
 * source of an unfinished restore, nor the newest completed run's; never a run whose journal
 * cannot be read (its tampering is reported by `history`). Holds the target lock and the lease
 * (no run starts meanwhile). Write-ahead: `backup.pruned` is appended to the run's journal
 * before anything is deleted; a prune interrupted after it deletes the rest on the next prune.
 * E_USAGE for a `keep` that is not a whole number from 1, or an `olderThan` it cannot read.
 */
export async function pruneBackups(
  config: ConfigInput,
  options: { cwd?: string; keep: number; olderThan?: string | null },
): Promise<PruneResult> {
  if (!Number.isInteger(options.keep) || options.keep < 1) {
    throw new UpgradeError("E_USAGE", `--keep must be a whole number from 1, not ${String(options.keep)}`, {
      hint: "the newest completed run's restore point is always kept; --keep 1 keeps only it (and unfinished runs')",
    });
  }
  const cutoff = options.olderThan ? Date.now() - parseAge(options.olderThan) : null;
  const resolved = await resolveInput(config, options.cwd);
  const lockTarget = async () => (await openAdapter(resolved.target, resolved.backup)).lockTarget();
  return withJournal(resolved, async (store) => {
    const target = await keyOf(resolved);
    return held({ store, target, lockTarget }, null, async (lease) => {
      const candidates = await candidatesOf(store, target);
      const result: PruneResult = { pruned: [], kept: [], freedBytes: 0 };
      const doomed: Candidate[] = [];
      let counted = 0;
      for (const c of candidates) {
        if (c.unreadable) {
          result.kept.push({ runId: c.run.runId, why: c.mustKeep! });
          continue;
        }
        if (c.pruned) {
          doomed.push(c); // journaled as pruned by an earlier, interrupted prune: delete what is left
          continue;
        }
        counted++;
        const why =
          c.mustKeep ??
          (counted <= options.keep ? `among the newest ${options.keep}` : null) ??
          (cutoff !== null && Date.parse(takenAt(c)) > cutoff ? `newer than ${options.olderThan}` : null);
        if (why) result.kept.push({ runId: c.run.runId, why });
        else doomed.push(c);
      }
      let db: DatabaseAdapter | undefined;
      try {
        for (const c of doomed) {
          if (!c.pruned) {
            await lease.ensure();
            const journal = await RunJournal.open(store, c.run.runId);
            await journal.fenceWith({ target, owner: lease.owner }).append({
              type: PRUNED_EVENT,
              payload: { paths: c.backups.map((b) => b.path), by: `${hostname()}:${process.pid}` },
            });
          }
          let bytes = 0;
          for (const b of c.backups) {
            if (!b.artifact) bytes += await removeCounted(b.path);
            else {
              db ??= await openAdapter(resolved.target, resolved.backup);
              bytes += await db.dropBackup(b.artifact);
            }
          }
          if (RUN_ID.test(c.run.runId)) bytes += await removeCounted(join(resolved.stateDir, "backups", c.run.runId));
          if (!c.pruned || bytes > 0) result.pruned.push({ runId: c.run.runId, paths: c.backups.map((b) => b.path), bytes });
          result.freedBytes += bytes;
        }
      } finally {
        await db?.close();
      }
      return result;
    });
  });
}

/** When a run's newest backup was taken (its request's time when the journal does not say). */
function takenAt(c: Candidate): string {
  return (
    c.backups
      .map((b) => b.takenAt ?? c.run.createdAt)
      .sort()
      .at(-1) ?? c.run.createdAt
  );
}

/** The target's runs that have backups, newest first, each with what forbids deleting them. */
async function candidatesOf(store: JournalStore, target: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const sourcesInUse = new Map<string, string>();
  let newestCompleted: string | null = null;
  for (const run of await store.runs(target)) {
    let mustKeep: string | null = null;
    let backups: RunBackup[] = [];
    let pruned = false;
    let unreadable = false;
    try {
      const journal = await RunJournal.open(store, run.runId);
      const snapshot = foldJournal(journal.events);
      backups = backupsOf(snapshot.context, journal.events);
      pruned = prunedAt(journal.events) !== null;
      if (snapshot.status === "active") {
        mustKeep = "unfinished";
        const source = runRequestOf(journal.events[0]?.payload).restoreOf;
        if (source) sourcesInUse.set(source.runId, run.runId);
      } else if (snapshot.value === "completed" && newestCompleted === null) {
        newestCompleted = run.runId;
        mustKeep = "the newest completed run";
      }
    } catch (err) {
      if (!isUpgradeError(err, "E_JOURNAL_TAMPERED") && !isUpgradeError(err, "E_JOURNAL_MISMATCH")) throw err;
      unreadable = true;
      mustKeep = `its journal cannot be read (${err.code}); see \`upgrade-machine history --run ${run.runId}\``;
    }
    if (backups.length || unreadable) out.push({ run, backups, mustKeep, pruned, unreadable });
  }
  for (const c of out) {
    const restoring = sourcesInUse.get(c.run.runId);
    if (restoring && !c.mustKeep) c.mustKeep = `the restore point of unfinished restore run ${restoring}`;
  }
  return out;
}
