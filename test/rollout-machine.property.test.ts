// The rollout machine against an oracle written apart from it: random wave shapes and thresholds,
// random events (valid and not: starts outside the open wave, ends of targets not running, worker
// deaths as a second start of a running target by another worker, pause, resume, cancel,
// approvals), and after every event the machine's state and every target's state equal the oracle's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FleetTargetEnd, FleetTargetState, RolloutEvent, RolloutWave } from "../machines/index.js";
import { foldRollout, rolloutState } from "../src/fleet/fold.js";

type Phase = "pending" | "running" | "paused" | "halting" | "cancelling" | "failing" | "completed" | "halted" | "cancelled" | "failed";
interface Oracle {
  phase: Phase;
  waves: RolloutWave[];
  approve: boolean;
  wave: number;
  approved: Set<number>;
  t: Map<string, { wave: number; state: FleetTargetState }>;
}
const ENDED: FleetTargetState[] = ["completed", "rolledBack", "aborted", "failed"];
const FINAL: Phase[] = ["completed", "halted", "cancelled", "failed"];

function ended(o: Oracle, wave: number): boolean {
  return (o.waves[wave]?.targets ?? []).every((n) => ENDED.includes(o.t.get(n)!.state));
}
function settle(o: Oracle): void {
  const running = [...o.t.values()].filter((x) => x.state === "running").length;
  const failed = [...o.t.values()].some((x) => x.state === "failed");
  if (o.phase === "running") {
    const names = o.waves[o.wave]?.targets ?? [];
    const bad = names.filter((n) => ["rolledBack", "aborted", "failed"].includes(o.t.get(n)!.state)).length;
    if (failed) o.phase = "failing";
    else if (o.wave >= 0 && bad > o.waves[o.wave]!.threshold) o.phase = "halting";
    else if (o.wave === o.waves.length - 1 && ended(o, o.wave)) o.phase = "completed";
  }
  if (o.phase === "halting" || o.phase === "cancelling") {
    if (failed) o.phase = "failing";
  }
  if (o.phase === "halting" && running === 0) o.phase = "halted";
  if (o.phase === "cancelling" && running === 0) o.phase = "cancelled";
  if (o.phase === "failing" && running === 0) o.phase = "failed";
}
function apply(o: Oracle, e: RolloutEvent): void {
  if (FINAL.includes(o.phase)) return;
  const live = o.phase !== "pending";
  switch (e.type) {
    case "rollout.requested":
      if (o.phase !== "pending") return;
      o.phase = "running";
      o.waves = e.waves;
      o.approve = e.approve;
      e.waves.forEach((w, i) => {
        for (const n of w.targets) o.t.set(n, { wave: i, state: "pending" });
      });
      break;
    case "target.started": {
      const x = o.t.get(e.target);
      if (live && x?.state === "running") break;
      if (o.phase === "running" && x?.state === "pending" && x.wave === o.wave) x.state = "running";
      break;
    }
    case "target.ended": {
      const x = o.t.get(e.target);
      if (live && x?.state === "running") x.state = e.state;
      break;
    }
    case "wave.opened":
      if (o.phase !== "running" || e.wave !== o.wave + 1 || e.wave >= o.waves.length) break;
      if (o.wave >= 0 && !ended(o, o.wave)) break;
      if (e.wave > 0 && o.approve && !o.approved.has(e.wave)) break;
      o.wave = e.wave;
      break;
    case "wave.approved":
      if ((o.phase === "running" || o.phase === "paused") && o.approve && e.wave === o.wave + 1) o.approved.add(e.wave);
      break;
    case "rollout.paused":
      if (o.phase === "running") o.phase = "paused";
      break;
    case "rollout.resumed":
      if (o.phase === "paused") o.phase = "running";
      break;
    case "rollout.cancelled":
      if (o.phase === "running" || o.phase === "paused") o.phase = "cancelling";
      break;
  }
  settle(o);
}

const shape = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
  thresholds: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
  approve: fc.boolean(),
});
const END = fc.constantFrom<FleetTargetEnd>("completed", "completed", "completed", "rolledBack", "aborted", "failed");
const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant("start" as const), i: fc.nat(20), w: fc.constantFrom("w1", "w2", "w3") }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant("end" as const), i: fc.nat(20), s: END }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("open" as const), d: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("approve" as const), d: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom("pause" as const, "resume" as const, "cancel" as const) }) },
);

describe("the rollout machine (fast-check model against an oracle)", () => {
  it("agrees with the oracle on the rollout's state and every target's, after every event", () => {
    fc.assert(
      fc.property(shape, fc.array(step, { maxLength: 60 }), ({ sizes, thresholds, approve }, steps) => {
        let n = 0;
        const waves = sizes.map((size, i) => ({ targets: Array.from({ length: size }, () => `t${n++}`), threshold: thresholds[i]! }));
        const names = waves.flatMap((w) => w.targets);
        const o: Oracle = { phase: "pending", waves: [], approve: false, wave: -1, approved: new Set(), t: new Map() };
        const events: RolloutEvent[] = [{ type: "rollout.requested", rolloutId: "r", fleet: "f", toVersion: "2", waves, approve }];
        apply(o, events[0]!);
        let snap = foldRollout(events);
        for (const s of steps) {
          let e: RolloutEvent;
          const name = names[("i" in s ? s.i : 0) % names.length]!;
          if (s.k === "start") e = { type: "target.started", target: name, worker: s.w };
          else if (s.k === "end") e = { type: "target.ended", target: name, state: s.s, runId: null };
          else if (s.k === "open") e = { type: "wave.opened", wave: o.wave + s.d };
          else if (s.k === "approve") e = { type: "wave.approved", wave: o.wave + s.d };
          else e = { type: `rollout.${s.k === "pause" ? "paused" : s.k === "resume" ? "resumed" : "cancelled"}` } as RolloutEvent;
          apply(o, e);
          snap = foldRollout([e], snap);
          expect(rolloutState(snap)).toBe(o.phase);
          expect(snap.context.wave).toBe(o.wave);
          for (const t of names) expect(snap.context.targets[t]!.state).toBe(o.t.get(t)!.state);
        }
        // A folded journal is the live snapshot: replaying every event at once lands in the same place.
        expect(snap.status === "done").toBe(FINAL.includes(o.phase));
      }),
      { numRuns: 300 },
    );
  });

  it("ends completed only when every target completed or the thresholds allowed the failures", () => {
    const waves = [
      { targets: ["a"], threshold: 0 },
      { targets: ["b", "c"], threshold: 1 },
    ];
    const ev: RolloutEvent[] = [
      { type: "rollout.requested", rolloutId: "r", fleet: "f", toVersion: "2", waves, approve: false },
      { type: "wave.opened", wave: 0 },
      { type: "target.started", target: "a", worker: "w" },
      { type: "target.ended", target: "a", state: "completed", runId: "x" },
      { type: "wave.opened", wave: 1 },
      { type: "target.started", target: "b", worker: "w" },
      { type: "target.started", target: "c", worker: "w" },
      { type: "target.ended", target: "b", state: "rolledBack", runId: "y" },
    ];
    expect(rolloutState(foldRollout(ev))).toBe("running");
    expect(rolloutState(foldRollout([...ev, { type: "target.ended", target: "c", state: "completed", runId: "z" }]))).toBe("completed");
    expect(rolloutState(foldRollout([...ev, { type: "target.ended", target: "c", state: "aborted", runId: "z" }]))).toBe("halted");
  });
});
