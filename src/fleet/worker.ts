import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { FleetTargetEnd, RolloutEnd } from "../../machines/index.js";
import type { RunnerEvent } from "../runner/runner-events.js";
import { decide } from "./decide.js";
import { driveTarget, targetKeys, type TargetOutcome } from "./drive-target.js";
import type { FleetStore } from "./store.js";
import type { ResolvedFleet } from "./types.js";

/** What a rollout tells its subscribers: each target's run events (as `upgrade()` gives them) and the rollout's own. */
export type RolloutRunnerEvent =
  | (RunnerEvent & { target: string })
  | { type: "wave.opened"; wave: number }
  | { type: "target.started"; target: string; resumed: boolean }
  | { type: "target.ended"; target: string; state: FleetTargetEnd; runId: string | null }
  | { type: "rollout.finished"; rolloutId: string; state: RolloutEnd };

/** Options of a worker. */
export interface WorkOptions {
  onEvent?: (event: RolloutRunnerEvent) => void;
  /** How often an idle worker asks the journal for work, ms (default 250). */
  pollMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Works on rollout `rolloutId` until it ends: claims targets (at most `maxParallel` live claims in
 * the whole fleet), drives each under its claim, heartbeating the claim, and journals how each
 * ended. A claim lost (expired and taken by another worker) journals nothing: that worker owns
 * the target now. Resolves with the rollout's end.
 */
export async function workRollout(
  store: FleetStore,
  fleet: ResolvedFleet,
  rolloutId: string,
  toVersion: string,
  options: WorkOptions = {},
): Promise<RolloutEnd> {
  const worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const keys = await targetKeys(fleet);
  const byName = new Map(fleet.targets.map((t) => [t.name, t]));
  const driving = new Map<string, Promise<void>>();
  const emit = options.onEvent;
  const decideOptions = {
    worker,
    maxParallel: fleet.maxParallel,
    leaseMs: fleet.leaseMs,
    pauseBetweenWavesMs: fleet.pauseBetweenWavesMs,
    keyOf: (t: string) => keys.get(t) ?? t,
    onAppend: (type: string, _target: string | null, payload: Record<string, unknown>) => {
      if (type === "wave.opened") emit?.({ type: "wave.opened", wave: Number(payload.wave) });
    },
  };
  let failure: unknown = null;

  const finish = async (target: string, outcome: TargetOutcome) => {
    await store.withRollout(rolloutId, async (tx) => {
      if (!(await tx.dropClaim(target, worker))) return; // taken over: the new holder journals the end
      // Given back: the claim stays, expired, so the next holder's start names this one (the journal's proof of one holder at a time).
      if (!outcome.ended) return void (await tx.setClaim(target, worker, tx.now - 1));
      const payload = { target, state: outcome.state, runId: outcome.runId, worker, ...(outcome.error ? { error: outcome.error } : {}) };
      await tx.append({ type: "target.ended", target, payload });
    });
    if (outcome.ended) emit?.({ type: "target.ended", target, state: outcome.state, runId: outcome.runId });
  };

  const drive = (target: string, baseline: string | null) => {
    const heartbeat = setInterval(
      () => {
        store.renewClaim(rolloutId, target, worker, fleet.leaseMs).catch(() => undefined);
      },
      Math.max(200, Math.floor(fleet.leaseMs / 3)),
    );
    const run = driveTarget(fleet, byName.get(target)!, baseline, {
      toVersion,
      ...(emit ? { onEvent: (e: RunnerEvent) => emit({ ...e, target }) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
      .then((outcome) => finish(target, outcome))
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => {
        clearInterval(heartbeat);
        driving.delete(target);
      });
    driving.set(target, run);
  };

  for (;;) {
    if (failure) {
      await Promise.allSettled(driving.values());
      throw failure;
    }
    const decision = await store.withRollout(rolloutId, (tx) => decide(tx, { ...decideOptions, driving: new Set(driving.keys()) }));
    if (decision.kind === "claimed") {
      emit?.({ type: "target.started", target: decision.target, resumed: decision.resumed });
      drive(decision.target, decision.baseline);
      continue;
    }
    if (decision.kind === "ended" && driving.size === 0) {
      const state = String(decision.snapshot.value) as RolloutEnd;
      emit?.({ type: "rollout.finished", rolloutId, state });
      return state;
    }
    await Promise.race([sleep(options.pollMs ?? 250), ...driving.values()]);
  }
}
