import type { RolloutEvent } from "../../machines/index.js";
import { foldRollout, type RolloutSnapshot } from "./fold.js";
import type { RolloutJournalEvent } from "./store.js";

/** The machine event of a journaled rollout event: its type and payload (extra fields are the workers' notes). */
export function toRolloutEvent(e: RolloutJournalEvent): RolloutEvent {
  return { ...e.payload, type: e.type } as RolloutEvent;
}

/** A rollout folded from its journal. */
export function foldRolloutJournal(events: readonly RolloutJournalEvent[]): RolloutSnapshot {
  return foldRollout(events.map(toRolloutEvent));
}

/** The run a target had before the rollout first started it, from that first `target.started` (undefined: never started). */
export function baselineOf(events: readonly RolloutJournalEvent[], target: string): string | null | undefined {
  const first = events.find((e) => e.type === "target.started" && e.target === target);
  return first ? ((first.payload.baseline as string | null) ?? null) : undefined;
}

/** The run each ended target ended with. */
export function runIdsOf(events: readonly RolloutJournalEvent[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const e of events) if (e.type === "target.ended" && e.target) out.set(e.target, (e.payload.runId as string | null) ?? null);
  return out;
}
