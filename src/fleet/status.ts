import type { FleetTargetState } from "../../machines/index.js";
import { rolloutState, type RolloutSnapshot } from "./fold.js";
import { baselineOf, foldRolloutJournal, runIdsOf } from "./rollout-journal.js";
import type { FleetStore, RolloutJournalEvent, RolloutRecord } from "./store.js";
import type { ResolvedFleet } from "./types.js";

/** A rollout's state as `fleet status` reports it. */
export type RolloutStatusState = "running" | "paused" | "completed" | "halted" | "cancelled" | "failed";

/** What `fleet status --json` prints. */
export interface RolloutStatus {
  rollout: string;
  state: RolloutStatusState;
  /** While draining (`running`, no target starting): the end it drains to. */
  ending: "halted" | "cancelled" | "failed" | null;
  toVersion: string;
  waves: { wave: number; targets: string[]; threshold: number; state: "pending" | "open" | "done" }[];
  targets: { name: string; config: string; wave: number; state: FleetTargetState; runId: string | null }[];
}

const DRAINING: Record<string, RolloutStatus["ending"]> = { halting: "halted", cancelling: "cancelled", failing: "failed" };

/** The status shape of a rollout's snapshot. */
export function statusOf(
  fleet: ResolvedFleet,
  record: RolloutRecord,
  snapshot: RolloutSnapshot,
  runIds: Map<string, string | null>,
): RolloutStatus {
  const value = rolloutState(snapshot);
  const ending = DRAINING[value] ?? null;
  const state = (ending || value === "pending" ? "running" : value) as RolloutStatusState;
  const c = snapshot.context;
  const configOf = new Map(fleet.targets.map((t) => [t.name, t.config]));
  return {
    rollout: record.rolloutId,
    state,
    ending,
    toVersion: record.toVersion,
    waves: c.waves.map((w, wave) => ({
      wave,
      targets: w.targets,
      threshold: w.threshold,
      state: wave < c.wave ? "done" : wave === c.wave ? "open" : "pending",
    })),
    targets: Object.entries(c.targets).map(([name, t]) => ({
      name,
      config: configOf.get(name) ?? name,
      wave: t.wave,
      state: t.state,
      runId: runIds.get(name) ?? null,
    })),
  };
}

/**
 * The status of a rollout from its journal: what `fleet status --json` prints and the fleet page
 * shows (both ask here, so they cannot disagree). An ended target has the run its
 * `target.ended` names; a running one has its newest run in the shared journal when the rollout
 * started it (newer than the baseline its first `target.started` noted: the run the worker
 * resumes), else null (claimed, its run not created yet). `keys` gives the journal key of each
 * target, asked only while a target is running.
 */
export async function readStatus(
  store: Pick<FleetStore, "latestRuns">,
  fleet: ResolvedFleet,
  record: RolloutRecord,
  events: readonly RolloutJournalEvent[],
  keys: () => Promise<ReadonlyMap<string, string>>,
): Promise<RolloutStatus> {
  const snapshot = foldRolloutJournal(events);
  const runIds = runIdsOf(events);
  const running = Object.entries(snapshot.context.targets)
    .filter(([, t]) => t.state === "running")
    .map(([name]) => name);
  if (running.length) {
    const keyOf = await keys();
    const latest = await store.latestRuns(running.map((t) => keyOf.get(t) ?? t));
    for (const t of running) {
      const runId = latest.get(keyOf.get(t) ?? t);
      if (runId !== undefined && runId !== baselineOf(events, t)) runIds.set(t, runId);
    }
  }
  return statusOf(fleet, record, snapshot, runIds);
}
