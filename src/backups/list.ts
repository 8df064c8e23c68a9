import type { UpgradeContext } from "../../machines/index.js";
import { keyOf, resolveInput, withJournal, type ConfigInput } from "../session.js";
import type { BackupArtifact } from "../adapters/types.js";
import { isUpgradeError } from "../errors.js";
import { sha256OrNull } from "../fs/files.js";
import type { JournalEvent } from "../journal/types.js";
import { applyEvent, initialSnapshot } from "../runner/fold.js";
import { prunedAt } from "../runner/pruned.js";
import { maybeOutputOf } from "../steps/output-of.js";

/** One backup a run took, from its journal. */
export interface RunBackup {
  /** `database`: the hot backup (also the restore point when the seal reused it); `restore point`: taken at the seal; `file`: a configured file's copy. */
  what: "database" | "restore point" | "file";
  path: string;
  bytes: number;
  sha256: string | null;
  /** When it was taken (ISO-8601): the copy's own time, or the journal's time of the step that took it. */
  takenAt: string | null;
  /** The database backup as its adapter wrote it (`dropBackup` deletes it); absent for a file's copy. */
  artifact?: BackupArtifact;
}

/** Every backup a run took, from its folded context and its events (the time of a file's copy). */
export function backupsOf(context: UpgradeContext, events: readonly JournalEvent[]): RunBackup[] {
  const at = (step: string) => events.find((e) => e.type === "step.succeeded" && e.step === step)?.at ?? null;
  const hot = maybeOutputOf(context, "backup");
  const seal = maybeOutputOf(context, "seal");
  const out: RunBackup[] = [];
  const db = (what: RunBackup["what"], a: BackupArtifact) =>
    out.push({ what, path: a.path, bytes: a.bytes, sha256: a.sha256, takenAt: a.createdAt ?? null, artifact: a });
  if (hot?.database) db(seal?.reusedHotBackup ? "restore point" : "database", hot.database);
  if (seal && !seal.reusedHotBackup) db("restore point", seal.restorePoint);
  const files = [...(hot?.files ?? []).map((f) => ({ f, step: "backup" })), ...(seal?.files ?? []).map((f) => ({ f, step: "seal" }))];
  const seen = new Set<string>();
  for (const { f, step } of files) {
    if (!f.backup || seen.has(f.backup)) continue;
    seen.add(f.backup);
    out.push({ what: "file", path: f.backup, bytes: f.bytes, sha256: f.sha256, takenAt: at(step) });
  }
  return out;
}

/**
 * A run's context folded from its events up to the first one the machine cannot take: the
 * backups of a run whose journal stops fitting the flow are still listed.
 */
export function foldedAsFarAsItFits(events: readonly JournalEvent[]): UpgradeContext {
  let snapshot = initialSnapshot();
  for (const event of events) {
    try {
      snapshot = applyEvent(snapshot, event);
    } catch (err) {
      if (isUpgradeError(err, "E_JOURNAL_MISMATCH")) break;
      throw err;
    }
  }
  return snapshot.context;
}

/** A backup found in the journal, with its size, age and state. */
export interface BackupInfo {
  runId: string;
  what: RunBackup["what"];
  path: string;
  bytes: number | null;
  sha256: string | null;
  /** When it was taken (ISO-8601), and how long ago in whole seconds; null when the journal does not say. */
  takenAt: string | null;
  ageSeconds: number | null;
  /** When `backups prune` deleted it (the journal's time); null while it is kept. */
  prunedAt: string | null;
  /** The file's sha256 equals the journal's (only with `verify`, and not for a pruned backup); null when not checked. */
  intact: boolean | null;
}

/** The backups of every run of the target (from the journal), newest run first, optionally re-hashed. */
export async function listBackups(config: ConfigInput, options: { cwd?: string; verify?: boolean } = {}): Promise<BackupInfo[]> {
  const resolved = await resolveInput(config, options.cwd);
  const now = Date.now();
  return withJournal(resolved, async (store) => {
    const out: BackupInfo[] = [];
    for (const run of await store.runs(await keyOf(resolved))) {
      const events = await store.read(run.runId);
      const pruned = prunedAt(events);
      for (const b of backupsOf(foldedAsFarAsItFits(events), events)) {
        const { what, path, bytes, sha256, takenAt } = b;
        const ageSeconds = takenAt ? Math.max(0, Math.floor((now - Date.parse(takenAt)) / 1000)) : null;
        const intact = options.verify && !pruned ? (await sha256OrNull(path)) === sha256 : null;
        out.push({ runId: run.runId, what, path, bytes, sha256, takenAt, ageSeconds, prunedAt: pruned, intact });
      }
    }
    return out;
  });
}
