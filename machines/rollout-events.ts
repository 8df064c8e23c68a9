/** Where a target of a rollout is: not started, being driven, or ended as its run ended. */
export type FleetTargetState = "pending" | "running" | "completed" | "rolledBack" | "aborted" | "failed";

/** How a target's run ended. */
export type FleetTargetEnd = Exclude<FleetTargetState, "pending" | "running">;

/** One wave of a rollout: its targets (by name, in order) and how many may end other than completed. */
export interface RolloutWave {
  targets: string[];
  /** The count of targets of this wave that may end other than `completed` before the rollout halts. */
  threshold: number;
}

/** The events the rollout machine folds; they are the rollout journal's event types. */
export type RolloutEvent =
  | {
      type: "rollout.requested";
      rolloutId: string;
      fleet: string;
      toVersion: string;
      waves: RolloutWave[];
      /** Each wave after the first waits for `wave.approved`. */
      approve: boolean;
    }
  | { type: "wave.approved"; wave: number }
  | { type: "wave.opened"; wave: number }
  | { type: "target.started"; target: string; worker: string }
  | { type: "target.ended"; target: string; state: FleetTargetEnd; runId: string | null }
  | { type: "rollout.paused" }
  | { type: "rollout.resumed" }
  | { type: "rollout.cancelled" };

/** What the rollout machine remembers: the waves, the open wave and every target's state. */
export interface RolloutContext {
  rolloutId: string | null;
  fleet: string | null;
  toVersion: string | null;
  waves: RolloutWave[];
  approve: boolean;
  /** The index of the open wave; -1 before the first opens. */
  wave: number;
  /** Waves approved by `fleet approve`. */
  approved: number[];
  /** Every target: its wave, its state, the worker that last started it and how many times it was started. */
  targets: Record<string, { wave: number; state: FleetTargetState; worker: string | null; starts: number }>;
}
