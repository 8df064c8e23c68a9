import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { UpgradeError } from "../errors.js";
import type { JournalStore, Lease, LeaseRequest } from "../journal/types.js";
import { processIdentity, provenDead } from "../process/identity.js";

/** How long a lease lives without a heartbeat; a dead driver's lease expires after this. */
export const LEASE_TTL_MS = 30_000;

/** A held lease, renewed in the background until released. */
export interface HeldLease {
  readonly owner: string;
  /**
   * Resolves when the lease is still held for a while; renews it first when its time is short.
   * Throws E_BUSY when it was lost (another driver took the target over) or could not be renewed
   * before it expired: the holder must stop before its next effect.
   */
  ensure(): Promise<void>;
  release(): Promise<void>;
}

/**
 * May `holder`'s lease be taken over at `now` (the journal database's clock)? When it expired, or
 * when its holder is proven dead: a process of this very boot and pid namespace that is gone or
 * whose pid now belongs to a process started at another time. A holder on another machine, in
 * another container or on a cloned VM is never declared dead: its lease must expire.
 */
export function mayTakeOver(holder: Lease, now: number, owner: string): boolean {
  return holder.expiresAt < now || (holder.owner !== owner && provenDead(holder.process));
}

function busy(target: string, h: Lease): UpgradeError {
  return new UpgradeError("E_BUSY", `${target} is being upgraded by process ${h.pid} on ${h.host}${h.runId ? ` (run ${h.runId})` : ""}`, {
    hint: `wait for it to finish (its lease expires at ${new Date(h.expiresAt).toISOString()}, by the journal's clock, if it died), then check \`upgrade-machine status\``,
    details: { holderPid: h.pid, holderHost: h.host, runId: h.runId },
  });
}

/**
 * Takes the lease of `target` for this process: refused with E_BUSY while another driver holds it
 * and may be alive. Expiry is counted by the journal database's clock, so machines with skewed
 * clocks agree on it. The lease is renewed every third of its time; a holder whose renewals keep
 * failing learns it at its next `ensure()` and must stop before its next effect.
 */
export async function acquireLease(store: JournalStore, target: string, runId: string | null, ttlMs = LEASE_TTL_MS): Promise<HeldLease> {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const request: LeaseRequest = { target, owner, runId, host: hostname(), pid: process.pid, process: processIdentity() };
  const askedAt = performance.now();
  const result = await store.acquireLease(request, ttlMs, (holder, now) => mayTakeOver(holder, now, owner));
  if (!result.acquired) throw busy(target, result.holder);
  // Counted on this machine's monotonic clock from before the request: never later than the
  // journal's expiry (both clocks run at the same rate; the request took some of the time).
  let validUntil = askedAt + ttlMs;
  let lost = false;
  let renewing: Promise<void> | undefined;
  const renew = (): Promise<void> => {
    renewing ??= (async () => {
      const at = performance.now();
      try {
        if (await store.renewLease(target, owner, ttlMs)) validUntil = at + ttlMs;
        else lost = true;
      } finally {
        renewing = undefined;
      }
    })();
    return renewing;
  };
  const margin = Math.min(5_000, Math.floor(ttlMs / 6));
  const timer = setInterval(
    () => {
      // A failed renewal is retried at the next beat; `ensure()` stops the holder when time runs out.
      renew().catch(() => undefined);
    },
    Math.max(250, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  const lostError = () =>
    new UpgradeError("E_BUSY", `lost the lease of ${target} to another driver`, {
      hint: "this process stopped before its next step; check `upgrade-machine status`",
    });
  return {
    owner,
    async ensure() {
      if (lost) throw lostError();
      if (performance.now() < validUntil - margin) return;
      try {
        await renew();
      } catch (err) {
        if (performance.now() >= validUntil) {
          throw new UpgradeError("E_BUSY", `cannot renew the lease of ${target}: ${(err as Error).message}`, {
            hint: "the journal is unreachable; this process stopped before its next step. Resume when the journal is back (`upgrade-machine resume`)",
            cause: err,
          });
        }
      }
      if (lost) throw lostError();
    },
    async release() {
      clearInterval(timer);
      await store.releaseLease(target, owner);
    },
  };
}
