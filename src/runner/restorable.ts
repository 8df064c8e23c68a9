import type { DatabaseAdapter } from "../adapters/types.js";
import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError } from "../errors.js";
import { sha256OrNull } from "../fs/files.js";
import { RunJournal } from "../journal/journal.js";
import type { JournalStore } from "../journal/types.js";
import { maybeOutputOf } from "../steps/output-of.js";
import type { RestoreSource } from "../steps/restore-source.js";
import { foldJournal } from "./fold.js";
import { prunedAt } from "./pruned.js";
import { runOfTarget } from "./target-runs.js";

const LIST_HINT = "list this target's restore points with `upgrade-machine backups --verify`";

/**
 * The restore point of run `runId` that a restore run may put back, checked before anything is
 * journaled or touched: a run of this target (E_NOT_FOUND otherwise), finished (E_UNFINISHED),
 * with a restore point (E_NOT_FOUND when it ended before the stop or its restore point was
 * pruned), every file of which the config still backs up (E_USAGE: the restore could not be
 * rolled back), the restore point and every file's copy intact by their sha256 (E_RESTORE), and,
 * where the adapter can fingerprint a backup, equal to the fingerprint it was taken with.
 */
export async function restorableSource(
  options: { store: JournalStore; target: string; config: ResolvedConfig; openDatabase: () => Promise<DatabaseAdapter> },
  runId: string,
  identity: string | null,
): Promise<RestoreSource> {
  await runOfTarget(options.store, runId, options.target, identity);
  const journal = await RunJournal.open(options.store, runId);
  const snapshot = foldJournal(journal.events);
  if (snapshot.status === "active") {
    throw new UpgradeError(
      "E_UNFINISHED",
      `run ${runId} is unfinished (at ${String(snapshot.value)}): its restore point cannot be restored`,
      {
        hint: "continue it with `upgrade-machine resume` (or end it with `upgrade-machine abandon`) first",
      },
    );
  }
  const pruned = prunedAt(journal.events);
  if (pruned) throw new UpgradeError("E_NOT_FOUND", `the restore point of run ${runId} was pruned at ${pruned}`, { hint: LIST_HINT });
  const seal = maybeOutputOf(snapshot.context, "seal");
  if (!seal) {
    throw new UpgradeError("E_NOT_FOUND", `run ${runId} has no restore point: it ended (${String(snapshot.value)}) before the stop`, {
      hint: LIST_HINT,
    });
  }
  for (const f of seal.files) {
    if (!(options.config.files ?? []).includes(f.path)) {
      throw new UpgradeError("E_USAGE", `run ${runId}'s restore point holds ${f.path}, which the config no longer backs up`, {
        hint: "add it to `files` again: the restore backs up the present state of every file it puts back, so that it can be rolled back",
      });
    }
  }
  const rp = seal.restorePoint;
  for (const [path, sha256] of [[rp.path, rp.sha256], ...seal.files.flatMap((f) => (f.backup ? [[f.backup, f.sha256]] : []))]) {
    if ((await sha256OrNull(path!)) !== sha256) {
      throw new UpgradeError("E_RESTORE", `${path} of run ${runId} fails its sha256: it was changed or removed since the run`, {
        hint: `nothing was changed; ${LIST_HINT}, and restore another run's`,
        details: { runId, path },
      });
    }
  }
  const db = await options.openDatabase();
  try {
    if (db.capabilities.backupFingerprints && (await db.fingerprintBackup(rp)).hash !== seal.fingerprint.hash) {
      throw new UpgradeError("E_RESTORE", `the restore point of run ${runId} no longer equals the database it was taken of`, {
        hint: `nothing was changed; ${LIST_HINT}, and restore another run's`,
        details: { runId, path: rp.path },
      });
    }
  } finally {
    await db.close();
  }
  const version = maybeOutputOf(snapshot.context, "preflight")?.fromVersion ?? snapshot.context.fromVersion;
  return { runId, version, seal };
}
