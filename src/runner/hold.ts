import { performance } from "node:perf_hooks";
import { UpgradeError } from "../errors.js";

/**
 * A right to act on a target that lives `ttlMs` by the journal database's clock unless renewed:
 * a run's lease, a fleet worker's claim. Its holder counts how long it may still act on this
 * machine's monotonic clock, from before the request that last took or renewed it, so its count
 * ends before the journal's (both clocks run at the same rate; the request took some of the time).
 */
export interface Hold {
  /**
   * Aborted, for good, when the hold was lost (another driver took it) or could not be renewed
   * while more than the stop margin of its time was left: whatever the holder runs must stop,
   * and it must journal nothing more. The reason is the coded error (E_BUSY) to stop with.
   */
  readonly signal: AbortSignal;
  /** Throws the reason when the hold is gone; renews it first when its time left is under the margin. */
  ensure(): Promise<void>;
  /** Stops renewing (the hold is given up or released). */
  stop(): void;
}

/** What keeps a hold: its name in errors, its time, when it was asked for, and how to renew it. */
export interface HoldOptions {
  /** What is held, for messages: `the lease of sqlite:/…`, `the claim on h01`. */
  what: string;
  ttlMs: number;
  /** `performance.now()` taken before the request that took the hold. */
  askedAt: number;
  /** Renews the hold for `ttlMs` after the journal's clock; false when another holder has it. */
  renew: () => Promise<boolean>;
  /** Aborts the hold too (an outer hold: a worker's claim around the run's lease). */
  within?: AbortSignal;
}

/** How often a hold is renewed: four times in its time, so a failed renewal or two still leave time. */
export const renewEveryMs = (ttlMs: number): number => Math.max(50, Math.floor(ttlMs / 4));

/**
 * How long before the journal's expiry a hold stops its holder: a quarter of its time, at most
 * 5 s: time for a step's command to end (SIGTERM, then SIGKILL 2 s later, see KILL_GRACE_MS)
 * before another driver may take the target over. Under a 12 s lease a command that ignores
 * SIGTERM may outlive the hold by up to 3 s.
 */
export const stopMarginMs = (ttlMs: number): number => Math.min(5_000, Math.floor(ttlMs / 4));

/**
 * Keeps a hold: renews it every {@link renewEveryMs}, and aborts its signal as soon as it was lost,
 * or when less than {@link stopMarginMs} of its time is left and a renewal since the last success
 * failed or went unanswered for a renewal period (a timer, so a step in progress is stopped in
 * time even when the journal never answers, not only at the next append). When no renewal was
 * even tried (a blocked event loop held the timers up), the journal is asked first: an answer
 * that the hold is still this holder's lets it go on.
 */
export function keepHold(o: HoldOptions): Hold {
  const controller = new AbortController();
  const margin = stopMarginMs(o.ttlMs);
  // How long a renewal may go unanswered before the journal counts as not answering.
  const answerMs = renewEveryMs(o.ttlMs);
  let validUntil = o.askedAt + o.ttlMs;
  let lastError: unknown = null;
  let renewing: Promise<void> | undefined;
  let renewingSince = 0;
  let deadline: NodeJS.Timeout | undefined;
  const abort = (reason: UpgradeError) => {
    if (controller.signal.aborted) return;
    stop();
    controller.abort(reason);
  };
  const ranOut = () => {
    const why = lastError ? `: ${(lastError as Error).message ?? String(lastError)}` : ": the journal did not answer";
    return new UpgradeError("E_BUSY", `stopped acting on ${o.what}: it could not be renewed before its time ran out${why}`, {
      hint: `the step in progress was stopped and nothing more was journaled. Another driver resumes the run once it expires (by the journal's clock, ${o.ttlMs} ms after its last renewal); check \`upgrade-machine status\``,
      ...(lastError ? { cause: lastError } : {}),
    });
  };
  const lost = () =>
    new UpgradeError("E_BUSY", `lost ${o.what} to another driver`, {
      hint: "this process stopped the step in progress and journaled nothing more; check `upgrade-machine status`",
    });
  const wake = (at: number) => {
    clearTimeout(deadline);
    if (controller.signal.aborted) return;
    deadline = setTimeout(check, Math.max(0, at - performance.now()) + 1);
    deadline.unref();
  };
  // Past the stop margin: stop when a renewal failed or went unanswered; when none was even tried
  // (the timers were held up by a blocked event loop, not the journal), ask the journal first.
  function check(): void {
    if (controller.signal.aborted) return;
    const now = performance.now();
    if (now < validUntil - margin) wake(validUntil - margin);
    else if (lastError || (renewing && now - renewingSince >= answerMs)) abort(ranOut());
    else {
      if (!renewing) void renew();
      wake(renewingSince + answerMs);
    }
  }
  function renew(): Promise<void> {
    if (renewing) return renewing;
    const at = performance.now();
    renewingSince = at;
    renewing = (async () => {
      try {
        if (await o.renew()) {
          lastError = null;
          validUntil = Math.max(validUntil, at + o.ttlMs);
        } else abort(lost());
      } catch (err) {
        lastError = err;
      } finally {
        renewing = undefined;
        check();
      }
    })();
    return renewing;
  }
  const beat = setInterval(() => void renew(), renewEveryMs(o.ttlMs));
  beat.unref();
  const onOuter = () => abort(o.within!.reason as UpgradeError);
  function stop() {
    clearInterval(beat);
    clearTimeout(deadline);
    o.within?.removeEventListener("abort", onOuter);
  }
  if (o.within?.aborted) onOuter();
  else o.within?.addEventListener("abort", onOuter, { once: true });
  check();
  const stopped = new Promise<void>((r) => controller.signal.addEventListener("abort", () => r(), { once: true }));
  return {
    signal: controller.signal,
    async ensure() {
      if (!controller.signal.aborted && performance.now() >= validUntil - margin) await Promise.race([renew(), stopped]);
      check();
      if (controller.signal.aborted) throw controller.signal.reason;
    },
    stop,
  };
}
