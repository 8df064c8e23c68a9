import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import { UpgradeError } from "../errors.js";
import { keepHold } from "./hold.js";
import type { JournalStore, Lease, LeaseRequest } from "../journal/types.js";
import { processIdentity, provenDead } from "../process/identity.js";

/** How long a lease lives without a heartbeat; a dead driver's lease expires after this. */
export const LEASE_TTL_MS = 30_000;

/** A held lease, renewed in the background until released. */
export interface HeldLease {
  readonly owner: string;
  /**
   * Aborted when the lease was lost (another driver took the target over) or could not be renewed
   * in time (see `keepHold`): the step in progress is stopped, and nothing more is journaled.
   */
  readonly signal: AbortSignal;
  /**
   * Resolves when the lease is still held for a while; renews it first when its time is short.
   * Throws E_BUSY when it was lost or could not be renewed before its stop margin: the holder
   * must stop before its next effect.
   */
  ensure(): Promise<void>;
  /** Stops renewing and gives the lease back (a lease that was lost or ran out is left to expire). */
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
 * clocks agree on it. The lease is renewed four times in its time; when renewals keep failing,
 * its signal aborts before it expires (see `keepHold`), so the step in progress stops in time.
 * `within`: an outer hold that aborts this one too (a fleet worker's claim on the target).
 */
export async function acquireLease(
  store: JournalStore,
  target: string,
  runId: string | null,
  ttlMs = LEASE_TTL_MS,
  within?: AbortSignal,
): Promise<HeldLease> {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const request: LeaseRequest = { target, owner, runId, host: hostname(), pid: process.pid, process: processIdentity() };
  const askedAt = performance.now();
  const result = await store.acquireLease(request, ttlMs, (holder, now) => mayTakeOver(holder, now, owner));
  if (!result.acquired) throw busy(target, result.holder);
  const hold = keepHold({
    what: `the lease of ${target}`,
    ttlMs,
    askedAt,
    renew: () => store.renewLease(target, owner, ttlMs),
    ...(within ? { within } : {}),
  });
  return {
    owner,
    signal: hold.signal,
    ensure: () => hold.ensure(),
    async release() {
      hold.stop();
      // Lost or out of time: the journal may not answer; the lease expires by itself.
      if (!hold.signal.aborted) await store.releaseLease(target, owner);
    },
  };
}
