import { initialTransition, transition, type SnapshotFrom } from "xstate";
import { rolloutMachine, type RolloutEvent } from "../../machines/index.js";

/** The rollout machine's snapshot. */
export type RolloutSnapshot = SnapshotFrom<typeof rolloutMachine>;

/** The rollout's state name: `pending`, `running`, `paused`, a draining state or an end. */
export function rolloutState(snapshot: RolloutSnapshot): string {
  return String(snapshot.value);
}

/** Folds rollout events through the machine's pure `transition()`; runs no effect. */
export function foldRollout(events: readonly RolloutEvent[], from?: RolloutSnapshot): RolloutSnapshot {
  let snapshot = from ?? initialTransition(rolloutMachine)[0];
  for (const event of events) snapshot = transition(rolloutMachine, snapshot, event)[0];
  return snapshot;
}
