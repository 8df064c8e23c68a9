import type { JournalEvent } from "../journal/types.js";

/**
 * The journal event that records a run's backups as deleted by `upgrade-machine backups prune`:
 * appended to that run's journal after it ended; the fold lets it pass without a transition.
 */
export const PRUNED_EVENT = "backup.pruned";

/** When the run's backups were pruned (the event's time), or null when they were not. */
export function prunedAt(events: readonly JournalEvent[]): string | null {
  return events.find((e) => e.type === PRUNED_EVENT)?.at ?? null;
}
