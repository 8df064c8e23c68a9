import { UpgradeError } from "../errors.js";
import type { JournalStore } from "./types.js";

/**
 * The journal of a target that never ran: no runs, no events. Commands that only read or
 * continue runs use it instead of creating a journal file, so they change nothing; anything
 * that would write is refused.
 */
export function emptyJournal(display: string): JournalStore {
  const refuse = async (): Promise<never> => {
    throw new UpgradeError("E_NOT_FOUND", `there is no journal at ${display} yet`, { hint: "start a run with `upgrade-machine run`" });
  };
  return {
    display,
    createRun: refuse,
    runs: async () => [],
    run: async () => null,
    read: async () => [],
    eventsAfter: async () => [],
    append: refuse,
    now: async () => Date.now(),
    acquireLease: refuse,
    renewLease: async () => false,
    releaseLease: async () => undefined,
    close: async () => undefined,
  };
}
