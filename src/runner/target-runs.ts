import { randomBytes } from "node:crypto";
import type { TargetLock } from "../adapters/types.js";
import { UpgradeError } from "../errors.js";
import { RunJournal } from "../journal/journal.js";
import { latestRun } from "../journal/latest-run.js";
import type { JournalStore, RunRecord } from "../journal/types.js";
import { foldJournal } from "./fold.js";
import { acquireLease, type HeldLease } from "./lease.js";

/** What holding a target needs: the journal, the target's key, its lock and the lease's time. */
export interface TargetHold {
  store: JournalStore;
  target: string;
  lockTarget?: () => Promise<TargetLock>;
  leaseTtlMs?: number;
  /** An outer hold on the target (a fleet worker's claim): its abort stops the run as a lost lease does. */
  hold?: AbortSignal;
}

/** A new run id: sortable by time, unique. */
export function newRunId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

/**
 * Runs `fn` holding the target lock (when the runner has one) and then the journal lease, and
 * releases both, whatever happens. The lock comes first: a second orchestrator on the same
 * target fails on it with E_BUSY before it touches the journal.
 */
export async function held<T>(
  options: TargetHold,
  runId: string | null,
  fn: (lease: HeldLease, lock: TargetLock | undefined) => Promise<T>,
): Promise<T> {
  const lock = await options.lockTarget?.();
  try {
    const lease = await acquireLease(options.store, options.target, runId, options.leaseTtlMs, options.hold);
    try {
      return await fn(lease, lock);
    } finally {
      await lease.release().catch(() => undefined);
    }
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

/** An unfinished run of this target: the latest under its key, or any under the same identity (another spelling). */
export async function unfinishedRun(
  store: JournalStore,
  target: string,
  identity: string | null,
): Promise<{ runId: string; at: string } | null> {
  const latest = await latestRun(store, target);
  const candidates = latest ? [latest] : [];
  if (identity) candidates.push(...(await store.runs()).filter((r) => r.identity === identity && r.target !== target));
  for (const run of candidates) {
    const snapshot = foldJournal((await RunJournal.open(store, run.runId)).events);
    if (snapshot.status === "active") return { runId: run.runId, at: String(snapshot.value) };
  }
  return null;
}

/**
 * The run `runId` if it belongs to this target (its key, or the identity the target lock
 * proves), else E_NOT_FOUND: no command acts on another target's run.
 */
export async function runOfTarget(store: JournalStore, runId: string, target: string, identity: string | null = null): Promise<RunRecord> {
  const record = await store.run(runId);
  if (record && (record.target === target || (identity !== null && record.identity === identity))) return record;
  throw new UpgradeError(
    "E_NOT_FOUND",
    record ? `run ${runId} is a run of another target (${record.name}), not of ${target}` : `run ${runId} does not exist in this journal`,
    {
      hint: record
        ? `use that target's config (\`--config\`) to act on it; list this target's runs with \`upgrade-machine history\``
        : "list runs with `upgrade-machine history`",
      details: { runId },
    },
  );
}
