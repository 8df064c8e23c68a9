import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { UpgradeError } from "../errors.js";
import type { JournalStore, Lease } from "../journal/types.js";
import { pidAlive } from "../process/pid.js";

/** How long a lease lives without a heartbeat; a dead driver's lease expires after this. */
export const LEASE_TTL_MS = 30_000;

/** A held lease, renewed in the background until released. */
export interface HeldLease {
  readonly owner: string;
  /** Throws E_BUSY when the lease was lost (another driver took the target over). */
  assertHeld(): void;
  release(): Promise<void>;
}

/**
 * Takes the lease of `target` for this process: refused with E_BUSY while another live driver
 * holds it. A lease whose holder's time ran out, or whose holder was a process of this host that
 * no longer exists (killed, crashed), is taken over.
 */
export async function acquireLease(store: JournalStore, target: string, runId: string | null, ttlMs = LEASE_TTL_MS): Promise<HeldLease> {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const lease: Lease = { target, owner, runId, host: hostname(), pid: process.pid, expiresAt: Date.now() + ttlMs };
  const canTake = (holder: Lease) =>
    holder.expiresAt < Date.now() || (holder.host === hostname() && holder.pid !== process.pid && !pidAlive(holder.pid));
  const result = await store.acquireLease(lease, canTake);
  if (!result.acquired) {
    const h = result.holder;
    throw new UpgradeError("E_BUSY", `${target} is being upgraded by process ${h.pid} on ${h.host}${h.runId ? ` (run ${h.runId})` : ""}`, {
      hint: `wait for it to finish (its lease expires at ${new Date(h.expiresAt).toISOString()} if it died), then check \`upgrade-machine status\``,
      details: { holderPid: h.pid, holderHost: h.host, runId: h.runId },
    });
  }
  let lost = false;
  const timer = setInterval(() => {
    store.renewLease(target, owner, Date.now() + ttlMs).then(
      (held) => { if (!held) lost = true; },
      () => { /* a failed renewal is retried at the next beat; expiry is the backstop */ },
    );
  }, Math.max(1_000, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    owner,
    assertHeld() {
      if (lost) throw new UpgradeError("E_BUSY", `lost the lease of ${target} to another driver`, { hint: "check `upgrade-machine status`" });
    },
    async release() {
      clearInterval(timer);
      await store.releaseLease(target, owner);
    },
  };
}
