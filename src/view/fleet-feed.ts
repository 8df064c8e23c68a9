import { UpgradeError } from "../errors.js";
import { readStatus, type RolloutStatus } from "../fleet/status.js";
import type { FleetStore, RolloutJournalEvent, RolloutRecord } from "../fleet/store.js";
import type { ResolvedFleet } from "../fleet/types.js";

/** The rollout the fleet page shows: its status and the last seq of its events that it folds. */
export interface FleetSnapshot {
  seq: number;
  status: RolloutStatus;
}

/**
 * Reads the fleet journal for the fleet page: the newest rollout of the fleet (or the one chosen),
 * its events read whole once and then only those after the last seq held, and its status from
 * `readStatus`, the function `fleet status --json` prints, so the page and the command agree.
 */
export class FleetFeed {
  private cached: { rolloutId: string; events: RolloutJournalEvent[] } | null = null;

  constructor(
    private readonly store: FleetStore,
    private readonly fleet: ResolvedFleet,
    /** The journal key of each target, by name. */
    private readonly keys: ReadonlyMap<string, string>,
    /** The rollout to show; null follows the newest. */
    private readonly rolloutId: string | null,
  ) {}

  /** The shown rollout now; null before the fleet's first rollout. */
  async snapshot(): Promise<FleetSnapshot | null> {
    const all = await this.store.rollouts(this.fleet.name);
    const record = this.rolloutId ? all.find((r) => r.rolloutId === this.rolloutId) : all[0];
    if (!record) {
      if (!this.rolloutId) return null;
      throw new UpgradeError("E_NOT_FOUND", `rollout ${this.rolloutId} is not a rollout of fleet ${this.fleet.name}`, {
        hint: "list them with `upgrade-machine fleet history`",
      });
    }
    const events = await this.eventsOf(record);
    const status = await readStatus(this.store, this.fleet, record, events, async () => this.keys);
    return { seq: events.at(-1)?.seq ?? -1, status };
  }

  private async eventsOf(record: RolloutRecord): Promise<RolloutJournalEvent[]> {
    const held = this.cached?.rolloutId === record.rolloutId ? this.cached.events : null;
    const last = held?.at(-1)?.seq;
    let events: RolloutJournalEvent[] | null = null;
    if (held && last !== undefined && record.lastSeq === last) return held;
    if (held && last !== undefined && record.lastSeq > last) {
      const more = await this.store.eventsAfter(record.rolloutId, last);
      // Contiguous with what is held: append; anything else (rewritten, removed) is read whole.
      if (more[0]?.seq === last + 1 && more.every((e, i) => e.seq === last + 1 + i)) events = [...held, ...more];
    }
    events ??= await this.store.events(record.rolloutId);
    this.cached = { rolloutId: record.rolloutId, events };
    return events;
  }
}
