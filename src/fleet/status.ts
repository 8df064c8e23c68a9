import type { FleetTargetState } from "../../machines/index.js";
import { rolloutState, type RolloutSnapshot } from "./fold.js";
import { foldRolloutJournal, runIdsOf } from "./rollout-journal.js";
import type { RolloutJournalEvent, RolloutRecord } from "./store.js";
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

/** The status of a rollout from its journal. */
export function statusFromEvents(fleet: ResolvedFleet, record: RolloutRecord, events: readonly RolloutJournalEvent[]): RolloutStatus {
  return statusOf(fleet, record, foldRolloutJournal(events), runIdsOf(events));
}
