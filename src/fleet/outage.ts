import { performance } from "node:perf_hooks";
import { UpgradeError, isUpgradeError } from "../errors.js";

/** What a worker tells about the journal's reachability (part of `RolloutRunnerEvent`). */
export type OutageEvent =
  | { type: "journal.unreachable"; error: { code: string; message: string }; retryInMs: number; givingUpInMs: number }
  | { type: "journal.reachable"; afterMs: number };

/** An error that says the journal did not answer (a refused, broken or timed-out connection), not that it refused something. */
export const unreachable = (err: unknown): boolean => isUpgradeError(err, "E_CONNECT");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How a worker waits out a journal it cannot reach: it tries again after a pause that doubles
 * from 250 ms up to 5 s, says so at each try, and gives up with E_CONNECT once `reconnectMs`
 * passed since the first failure in a row, after `settle()` (its targets, stopped by their
 * claims' timers, have let go). A worker that lost the journal for good ends with a clear error
 * instead of spinning silently; one that finds it again goes on as if nothing happened.
 */
export function journalOutage(journal: string, reconnectMs: number, emit?: (e: OutageEvent) => void) {
  let since: number | null = null;
  let tries = 0;
  return {
    /** The journal answered. */
    reached(): void {
      if (since === null) return;
      emit?.({ type: "journal.reachable", afterMs: Math.round(performance.now() - since) });
      since = null;
      tries = 0;
    },
    /** The journal did not answer `err`: waits before the next try, or throws E_CONNECT when it is time to give up. */
    async failed(err: UpgradeError, settle: () => Promise<unknown>): Promise<void> {
      since ??= performance.now();
      const left = since + reconnectMs - performance.now();
      if (left <= 0) {
        await settle();
        throw new UpgradeError(
          "E_CONNECT",
          `the fleet journal ${journal} did not answer for ${Math.round(reconnectMs / 1000)} s: this worker gives up (${err.summary})`,
          {
            hint: "the targets it drove were stopped before their claims expired; other workers resume them. When the journal answers again, join the rollout again with `upgrade-machine fleet work --fleet FILE` (`reconnectSeconds` in the fleet file sets how long a worker keeps trying)",
            cause: err,
          },
        );
      }
      const retryInMs = Math.min(5_000, 250 * 2 ** tries++, Math.ceil(left));
      emit?.({ type: "journal.unreachable", error: { code: err.code, message: err.summary }, retryInMs, givingUpInMs: Math.round(left) });
      await sleep(retryInMs);
    },
  };
}
