import { openFleetStore, openJournalStore } from "../adapters/registry.js";
import { UpgradeError } from "../errors.js";
import { targetKeys } from "../fleet/drive-target.js";
import { loadFleet, type FleetInput } from "../fleet/load.js";
import type { FleetStore } from "../fleet/store.js";
import type { JournalStore } from "../journal/types.js";
import { startFleetViewServer } from "./fleet-server.js";
import type { ViewServer } from "./http.js";
import { type OpenViewOptions, serverOptionsOf } from "./open.js";

/** Options of `openFleetView()`: those of `openView()`, and the rollout to show. */
export interface OpenFleetViewOptions extends OpenViewOptions {
  /** A rollout of the fleet; default the newest (followed as new ones start). */
  rolloutId?: string;
}

/**
 * Serves the fleet page of a fleet file: opens the fleet journal and the shared run journal
 * (read only: it never claims a target or takes a lease, so it can watch workers on other
 * machines) and starts the page's server. E_NOT_FOUND when `rolloutId` is not a rollout of the
 * fleet. `close()` stops the server and closes both journals.
 */
export async function openFleetView(input: FleetInput, options: OpenFleetViewOptions = {}): Promise<ViewServer> {
  const fleet = await loadFleet(input, options.cwd);
  const keys = await targetKeys(fleet);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const fleetStore: FleetStore = await openFleetStore(fleet.journalTarget);
    closers.push(() => fleetStore.close());
    const runStore: JournalStore | null = await openJournalStore(fleet.journalTarget, { create: true });
    if (!runStore)
      throw new UpgradeError("E_INTERNAL", "the fleet's journal could not be opened", { hint: "check the fleet's journal URL" });
    closers.push(() => runStore.close());
    if (options.rolloutId && !(await fleetStore.rollouts(fleet.name)).some((r) => r.rolloutId === options.rolloutId)) {
      throw new UpgradeError("E_NOT_FOUND", `rollout ${options.rolloutId} is not a rollout of fleet ${fleet.name}`, {
        hint: "list them with `upgrade-machine fleet history`",
      });
    }
    const server = await startFleetViewServer({
      fleet,
      fleetStore,
      runStore,
      keys,
      ...(options.rolloutId !== undefined ? { rolloutId: options.rolloutId } : {}),
      ...serverOptionsOf(options),
    });
    return {
      ...server,
      async close() {
        await server.close();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
