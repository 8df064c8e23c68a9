import type { RolloutContext } from "./rollout-events.js";

// The questions the rollout machine's guards ask of its context, pure and shared with the
// workers (which targets may start) and the status (what a wave holds).

/** Targets being driven now, in any wave. */
export function runningCount(c: RolloutContext): number {
  return Object.values(c.targets).filter((t) => t.state === "running").length;
}

/** A target whose run ended `failed`: a person is needed. */
export function anyFailed(c: RolloutContext): boolean {
  return Object.values(c.targets).some((t) => t.state === "failed");
}

/** The open wave's targets that ended other than `completed`. */
export function waveFailures(c: RolloutContext, wave = c.wave): number {
  const names = c.waves[wave]?.targets ?? [];
  return names.filter((n) => {
    const s = c.targets[n]?.state;
    return s === "rolledBack" || s === "aborted" || s === "failed";
  }).length;
}

/** The open wave passed its failure threshold. */
export function overThreshold(c: RolloutContext): boolean {
  const wave = c.waves[c.wave];
  return wave !== undefined && waveFailures(c) > wave.threshold;
}

/** Every target of the open wave ended. */
export function waveDone(c: RolloutContext): boolean {
  const wave = c.waves[c.wave];
  if (!wave) return false;
  return wave.targets.every((n) => {
    const s = c.targets[n]?.state;
    return s !== "pending" && s !== "running";
  });
}

/** Wave `wave` may open now: it is the next one, the one before it ended, and it is approved when approval is asked. */
export function mayOpen(c: RolloutContext, wave: number): boolean {
  if (wave !== c.wave + 1 || wave >= c.waves.length) return false;
  if (c.wave >= 0 && !waveDone(c)) return false;
  return wave === 0 || !c.approve || c.approved.includes(wave);
}

/** The open wave's targets not started yet, in order. */
export function pendingOfWave(c: RolloutContext): string[] {
  return (c.waves[c.wave]?.targets ?? []).filter((n) => c.targets[n]?.state === "pending");
}
