import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { FleetTargetEnd, RolloutEnd } from "../../machines/index.js";
import type { UpgradeError } from "../errors.js";
import { keepHold } from "../runner/hold.js";
import type { RunnerEvent } from "../runner/runner-events.js";
import { decide, type Decision } from "./decide.js";
import { driveTarget, targetKeys, type TargetOutcome } from "./drive-target.js";
import { journalOutage, unreachable, type OutageEvent } from "./outage.js";
import type { FleetStore } from "./store.js";
import type { ResolvedFleet } from "./types.js";

/** What a rollout tells its subscribers: each target's run events (as `upgrade()` gives them) and the rollout's own. */
export type RolloutRunnerEvent =
  | (RunnerEvent & { target: string })
  | { type: "wave.opened"; wave: number }
  | { type: "target.started"; target: string; resumed: boolean }
  | { type: "target.ended"; target: string; state: FleetTargetEnd; runId: string | null }
  /** This worker stopped driving the target, journaling nothing: its claim could not be renewed in time, or was lost. */
  | { type: "target.stopped"; target: string; error: { code: string; message: string } }
  /** The journal did not answer (the worker tries again in `retryInMs`, and gives up `givingUpInMs` from now), or answers again. */
  | OutageEvent
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
 * the target now. A claim that cannot be renewed (the journal does not answer) stops its target's
 * run, the step in progress included, before it expires, and journals nothing either; the worker
 * keeps trying to reach the journal for the fleet's `reconnectMs`, then ends with E_CONNECT
 * (see `journalOutage`). Resolves with the rollout's end.
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

  // Stopped, journaling nothing: the claim expires by the journal's clock and another worker resumes the target.
  const stopped = (target: string, err: UpgradeError) =>
    emit?.({ type: "target.stopped", target, error: { code: err.code, message: err.summary } });

  const drive = (target: string, baseline: string | null, askedAt: number) => {
    // The claim's time is counted from before the transaction that took it; when it cannot be
    // renewed in time, its signal stops the target's run (the step in progress too) before it expires.
    const claim = keepHold({
      what: `the claim on ${target}`,
      ttlMs: fleet.leaseMs,
      askedAt,
      renew: () => store.renewClaim(rolloutId, target, worker, fleet.leaseMs),
    });
    const run = driveTarget(fleet, byName.get(target)!, baseline, {
      toVersion,
      ...(emit ? { onEvent: (e: RunnerEvent) => emit({ ...e, target }) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      hold: claim.signal,
    })
      .then(async (outcome) => {
        if (claim.signal.aborted) return stopped(target, claim.signal.reason as UpgradeError);
        await finish(target, outcome).catch((err) => {
          if (!unreachable(err)) throw err;
          stopped(target, outcome.ended ? (err as UpgradeError) : outcome.error);
        });
      })
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => {
        claim.stop();
        driving.delete(target);
      });
    driving.set(target, run);
  };

  const outage = journalOutage(store.display, fleet.reconnectMs, emit);
  const settle = () => Promise.allSettled(driving.values());
  for (;;) {
    if (failure) {
      await settle();
      throw failure;
    }
    const askedAt = performance.now();
    let decision: Decision;
    try {
      decision = await store.withRollout(rolloutId, (tx) => decide(tx, { ...decideOptions, driving: new Set(driving.keys()) }));
      outage.reached();
    } catch (err) {
      if (!unreachable(err)) throw err;
      await outage.failed(err as UpgradeError, settle);
      continue;
    }
    if (decision.kind === "claimed") {
      emit?.({ type: "target.started", target: decision.target, resumed: decision.resumed });
      drive(decision.target, decision.baseline, askedAt);
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
