import type { DatabaseTarget } from "../url.js";

/** A wave of a rollout: a number of targets, a percentage of the fleet, or every target left. */
export type WaveSpec = { size: number } | { percent: number } | { rest: true };

/**
 * A fleet file (`fleet.json`, or `fleet.ts` with `defineFleet`): many services upgraded as one
 * rollout, a canary first, then waves, by workers that share a PostgreSQL journal.
 */
export interface FleetConfig {
  /** The fleet's name: rollouts are filed under it. */
  name: string;
  /** The shared journal (postgres://...): the rollout's and every target's run. */
  journal: string;
  /** Upgrade config files or globs (`*`, `?`, `**`), relative to the fleet file; taken in sorted order, the first is the canary. */
  targets: string[];
  /** The waves, in order. Default `[{ size: 1 }, { rest: true }]`: the canary, then everyone. */
  waves?: WaveSpec[];
  /** Targets driven at once in the whole fleet, by all workers together. Default 1. */
  maxParallel?: number;
  /** Targets per wave that may end other than `completed` before the rollout halts: a count or `"N%"` of the wave. Default 0. */
  failureThreshold?: number | string;
  /** A worker's claim on a target (and the target's lease) lives this long without a heartbeat. Default 30. */
  leaseSeconds?: number;
  /**
   * How long a worker that cannot reach the journal keeps trying before it gives up (E_CONNECT),
   * seconds. Its targets are stopped before their claims expire whatever this is. Default 300.
   */
  reconnectSeconds?: number;
  /** Seconds between the end of a wave and the start of the next. Default 0. */
  pauseBetweenWaves?: number;
  /** Each wave after the first waits for `fleet approve`. Default false. */
  approve?: boolean;
}

/** A target of a fleet: its name in the rollout and its config file. */
export interface FleetTarget {
  /** The config's folder relative to the fleet file (its path, when two configs share a folder). */
  name: string;
  /** The absolute path of the upgrade config. */
  config: string;
}

/** A fleet file, validated, its targets found, its defaults filled in. */
export interface ResolvedFleet {
  name: string;
  /** The fleet file, absolute; null for a fleet given as an object. */
  file: string | null;
  baseDir: string;
  journal: string;
  journalTarget: DatabaseTarget;
  /** In sorted order: the first is the canary. */
  targets: FleetTarget[];
  waves: WaveSpec[];
  maxParallel: number;
  failureThreshold: { count: number } | { percent: number };
  leaseMs: number;
  reconnectMs: number;
  pauseBetweenWavesMs: number;
  approve: boolean;
}
