import { mayOpen, pendingOfWave, runningCount } from "../../machines/index.js";
import { foldRollout, type RolloutSnapshot } from "./fold.js";
import { baselineOf, foldRolloutJournal, toRolloutEvent } from "./rollout-journal.js";
import type { RolloutTx } from "./store.js";

/** What a worker may do next, decided in one transaction with the rollout's row locked. */
export type Decision =
  | { kind: "claimed"; target: string; baseline: string | null; resumed: boolean }
  | { kind: "wait"; snapshot: RolloutSnapshot }
  | { kind: "ended"; snapshot: RolloutSnapshot };

/** What the decision needs of the fleet and the worker. */
export interface DecideOptions {
  worker: string;
  maxParallel: number;
  leaseMs: number;
  pauseBetweenWavesMs: number;
  /** The journal key of each target (its runs in the shared journal are filed under it). */
  keyOf: (target: string) => string;
  /** Targets this worker drives now: never claimed again by it; a claim of its own that expired is extended. */
  driving?: ReadonlySet<string>;
  /** Called with each event this decision journaled (`wave.opened`, `target.started`). */
  onAppend?: (type: string, target: string | null, payload: Record<string, unknown>) => void;
}

/**
 * The next step of a worker: open the next wave when the machine allows it (approved, and the
 * pause between waves passed by the database's clock), then claim one target: first a running
 * target whose worker's claim expired (it died, or gave the target back: its run is resumed from
 * its journal), else the open wave's next pending one while fewer than `maxParallel` targets of
 * the whole fleet are started and not ended (a dead worker's target keeps its slot).
 * The claim and its `target.started` are written in the same transaction.
 */
export async function decide(tx: RolloutTx, o: DecideOptions): Promise<Decision> {
  const events = await tx.events();
  let snapshot = foldRolloutJournal(events);
  if (snapshot.status === "done") return { kind: "ended", snapshot };
  const c = snapshot.context;
  if (snapshot.value === "running" && mayOpen(c, c.wave + 1)) {
    const lastEnd = [...events].reverse().find((e) => e.type === "target.ended");
    const since = lastEnd ? Date.parse(lastEnd.at) : 0;
    if (c.wave < 0 || tx.now >= since + o.pauseBetweenWavesMs) {
      const payload = { wave: c.wave + 1 };
      const opened = await tx.append({ type: "wave.opened", target: null, payload });
      snapshot = foldRollout([toRolloutEvent(opened)], snapshot);
      o.onAppend?.("wave.opened", null, payload);
      if (snapshot.status === "done") return { kind: "ended", snapshot };
    }
  }
  const claims = await tx.claims();
  const live = claims.filter((x) => x.expiresAt >= tx.now);
  const ctx = snapshot.context;
  const mine = o.driving ?? new Set<string>();
  for (const x of claims)
    if (mine.has(x.target) && x.worker === o.worker && x.expiresAt < tx.now) await tx.setClaim(x.target, o.worker, tx.now + o.leaseMs);
  const held = new Set([...live.map((x) => x.target), ...mine]);
  const orphan = Object.keys(ctx.targets).find((t) => ctx.targets[t]!.state === "running" && !held.has(t));
  // A started target holds its slot until it ends, whoever drives it: a dead worker's too.
  const free = runningCount(ctx) < o.maxParallel;
  const target = orphan ?? (snapshot.value === "running" && free ? pendingOfWave(ctx).find((t) => !held.has(t)) : undefined);
  if (target === undefined) return { kind: "wait", snapshot };
  const previous = claims.find((x) => x.target === target);
  const known = baselineOf(events, target);
  const baseline = known === undefined ? await tx.latestRun(o.keyOf(target)) : known;
  await tx.setClaim(target, o.worker, tx.now + o.leaseMs);
  const payload = {
    target,
    worker: o.worker,
    baseline,
    claimedAt: tx.now,
    ...(previous ? { previousWorker: previous.worker, previousExpiresAt: previous.expiresAt } : {}),
  };
  await tx.append({ type: "target.started", target, payload });
  o.onAppend?.("target.started", target, payload);
  return { kind: "claimed", target, baseline, resumed: orphan !== undefined };
}
