import type { Json } from "../../machines/index.js";
import { isUpgradeError } from "../errors.js";
import { verifyChain } from "../journal/hash.js";
import type { JournalEvent, RunRecord } from "../journal/types.js";
import { applyEvent, initialSnapshot, type UpgradeSnapshot } from "../runner/fold.js";
import { runResult, type RunState } from "../runner/result.js";

/** One journal event as the page lists it. */
export interface EventRow {
  seq: number;
  at: string;
  type: string;
  step: string | null;
  /**
   * For a step's result: the time since that attempt's `step.started`; for the closing `run.*`
   * event: the whole run. Null otherwise.
   */
  durationMs: number | null;
  /** One line: the error, the skip reason, the versions, the number of instructions. */
  summary: string | null;
  /** The step's output, the error record, or the closing payload, as journaled. */
  data: Json | null;
}

/** A run's state as the page shows it. */
export interface RunSummary {
  runId: string;
  name: string;
  createdAt: string;
  /** The machine state the journal folds to (`migrate`, `completed`...); null when it cannot be folded. */
  value: string | null;
  state: RunState | null;
  fromVersion: string | null;
  toVersion: string | null;
  eventCount: number;
  /** The hash of the last event: changes whenever the run does. */
  head: string | null;
  /** E_JOURNAL_TAMPERED or E_JOURNAL_MISMATCH, when the journal cannot be trusted. */
  problem: { code: string; message: string } | null;
}

/** The rows of a run's events from `events[from]` on, with durations from the journal's own times. */
export function eventRows(events: readonly JournalEvent[], from = 0): EventRow[] {
  const startedAt = new Map<string, number>();
  const first = events[0] ? Date.parse(events[0].at) : 0;
  for (let i = 0; i < from; i++) {
    const e = events[i]!;
    if (e.type === "step.started" && e.step) startedAt.set(e.step, Date.parse(e.at));
  }
  return events.slice(from).map((e) => {
    const at = Date.parse(e.at);
    const p = e.payload;
    let durationMs: number | null = null;
    let summary: string | null = null;
    let data: Json | null = null;
    if (e.type === "step.started" && e.step) {
      startedAt.set(e.step, at);
      summary = `attempt ${String(p.attempt ?? 1)}`;
    } else if ((e.type === "step.succeeded" || e.type === "step.failed") && e.step) {
      const start = startedAt.get(e.step);
      durationMs = start === undefined ? null : at - start;
      if (e.type === "step.failed") {
        const err = (p.error ?? {}) as { code?: string; message?: string };
        summary = `${err.code ?? "E_STEP"}: ${err.message ?? ""}`;
        data = p.error ?? null;
      } else {
        summary = typeof p.skipped === "string" ? `skipped: ${p.skipped}` : null;
        data = p.output ?? null;
      }
    } else if (e.type === "run.requested") {
      summary = typeof p.toVersion === "string" ? `to ${p.toVersion}` : null;
    } else if (e.type === "backup.pruned") {
      summary = `${Array.isArray(p.paths) ? p.paths.length : 0} backups deleted by \`backups prune\``;
      data = p;
    } else {
      durationMs = at - first;
      summary = e.type === "run.abandoned" ? String(p.reason ?? "") : `${String(p.fromVersion ?? "?")} -> ${String(p.toVersion ?? "?")}`;
      data = p;
    }
    return { seq: e.seq, at: e.at, type: e.type, step: e.step, durationMs, summary, data };
  });
}

/** A fold to continue from: the snapshot after the first `count` events. */
export interface FoldedPrefix {
  count: number;
  snapshot: UpgradeSnapshot;
}

/**
 * The run's folded state; a broken hash chain or a journal the machine rejects is reported in
 * `problem`, not thrown. With `prior` (the same run's earlier, shorter read, whose events are
 * the first of `events`: the caller checks), the chain is verified and the fold goes on from
 * where it ended, so that a long run is not verified and folded again on every poll; without
 * it, the whole chain is verified.
 */
export function runSummary(
  run: RunRecord,
  events: readonly JournalEvent[],
  prior?: FoldedPrefix,
): { summary: RunSummary; folded: FoldedPrefix | undefined } {
  const base = {
    runId: run.runId,
    name: run.name,
    createdAt: run.createdAt,
    eventCount: events.length,
    head: events[events.length - 1]?.hash ?? null,
  };
  try {
    const start = prior && prior.count <= events.length ? prior : { count: 0, snapshot: initialSnapshot() };
    verifyChain(events, start.count);
    const snapshot = events.slice(start.count).reduce(applyEvent, start.snapshot);
    const result = runResult(run.runId, events, snapshot);
    return {
      summary: {
        ...base,
        value: String(snapshot.value),
        state: result.state,
        fromVersion: result.fromVersion,
        toVersion: result.toVersion,
        problem: null,
      },
      folded: { count: events.length, snapshot },
    };
  } catch (err) {
    if (!isUpgradeError(err)) throw err;
    return {
      summary: { ...base, value: null, state: null, fromVersion: null, toVersion: null, problem: { code: err.code, message: err.summary } },
      folded: undefined,
    };
  }
}
