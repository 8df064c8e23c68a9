import { transition } from "xstate";
import { type Json, type RolloutEnd, type RolloutEvent, rolloutMachine } from "../../machines/index.js";
import { openFleetStore } from "../adapters/registry.js";
import { UpgradeError } from "../errors.js";
import { newRunId } from "../runner/target-runs.js";
import { checkRequestedVersion } from "../versions.js";
import { loadFleet, planWaves, type FleetInput } from "./load.js";
import { foldRolloutJournal } from "./rollout-journal.js";
import { targetKeys } from "./drive-target.js";
import { readStatus, type RolloutStatus } from "./status.js";
import type { FleetStore, RolloutJournalEvent, RolloutRecord } from "./store.js";
import type { ResolvedFleet } from "./types.js";
import { workRollout, type WorkOptions } from "./worker.js";

/** Options of `rollout()` and `fleetWork()`. */
export interface RolloutOptions extends WorkOptions {
  /** Resolves a relative fleet file path; default `process.cwd()`. */
  cwd?: string;
}

/** How a rollout ended. */
export interface RolloutResult {
  rolloutId: string;
  state: RolloutEnd;
}

/** A rollout's status from its events (the running targets' runs read from the shared journal). */
type StatusReader = (record: RolloutRecord, events: readonly RolloutJournalEvent[]) => Promise<RolloutStatus>;

async function withFleetStore<T>(
  input: FleetInput,
  cwd: string | undefined,
  fn: (store: FleetStore, fleet: ResolvedFleet, status: StatusReader) => Promise<T>,
): Promise<T> {
  const fleet = await loadFleet(input, cwd);
  const store = await openFleetStore(fleet.journalTarget);
  let keys: Promise<Map<string, string>> | undefined;
  const status: StatusReader = (record, events) => readStatus(store, fleet, record, events, () => (keys ??= targetKeys(fleet)));
  try {
    return await fn(store, fleet, status);
  } finally {
    await store.close();
  }
}

/** The fleet's newest rollout when it has not ended. */
async function unfinished(store: FleetStore, fleet: ResolvedFleet): Promise<RolloutRecord | null> {
  const [latest] = await store.rollouts(fleet.name);
  if (!latest) return null;
  return foldRolloutJournal(await store.events(latest.rolloutId)).status === "done" ? null : latest;
}

/**
 * Starts a rollout of the fleet to `toVersion` and works on it until it ends (other workers may
 * join with `fleetWork()`). Throws E_UNFINISHED while another rollout of the fleet is unfinished.
 */
export async function rollout(input: FleetInput, options: RolloutOptions & { toVersion: string }): Promise<RolloutResult> {
  checkRequestedVersion(options.toVersion);
  if (!options.toVersion) throw new UpgradeError("E_USAGE", "a rollout needs the version to install", { hint: "pass --to VERSION" });
  return withFleetStore(input, options.cwd, async (store, fleet) => {
    const waves = planWaves(fleet);
    const rolloutId = newRunId();
    await store.withFleet(fleet.name, async (tx) => {
      const latest = await tx.latest();
      if (latest && foldRolloutJournal(await tx.events(latest.rolloutId)).status !== "done") {
        throw new UpgradeError("E_UNFINISHED", `rollout ${latest.rolloutId} of fleet ${fleet.name} is unfinished`, {
          hint: "join it with `upgrade-machine fleet work`, or `fleet resume` / `fleet cancel` it",
          details: { rolloutId: latest.rolloutId },
        });
      }
      const payload = {
        rolloutId,
        fleet: fleet.name,
        toVersion: options.toVersion,
        waves: waves.map((w) => ({ ...w })),
        approve: fleet.approve,
      };
      await tx.create({ rolloutId, fleet: fleet.name, toVersion: options.toVersion }, { type: "rollout.requested", target: null, payload });
    });
    return { rolloutId, state: await workRollout(store, fleet, rolloutId, options.toVersion, options) };
  });
}

/** Joins the fleet's unfinished rollout as another worker; E_NOT_FOUND when there is none. */
export async function fleetWork(input: FleetInput, options: RolloutOptions = {}): Promise<RolloutResult> {
  return withFleetStore(input, options.cwd, async (store, fleet) => {
    const open = await unfinished(store, fleet);
    if (!open)
      throw new UpgradeError("E_NOT_FOUND", `fleet ${fleet.name} has no unfinished rollout`, {
        hint: "start one with `upgrade-machine fleet run --to VERSION`",
      });
    return { rolloutId: open.rolloutId, state: await workRollout(store, fleet, open.rolloutId, open.toVersion, options) };
  });
}

/** The status of the fleet's newest rollout (or `rolloutId`); null when the fleet has none. */
export async function fleetStatus(input: FleetInput, options: { cwd?: string; rolloutId?: string } = {}): Promise<RolloutStatus | null> {
  return withFleetStore(input, options.cwd, async (store, fleet, status) => {
    const all = await store.rollouts(fleet.name);
    const record = options.rolloutId ? all.find((r) => r.rolloutId === options.rolloutId) : all[0];
    if (!record) {
      if (options.rolloutId)
        throw new UpgradeError("E_NOT_FOUND", `rollout ${options.rolloutId} is not a rollout of fleet ${fleet.name}`, {
          hint: "list them with `upgrade-machine fleet history`",
        });
      return null;
    }
    return status(record, await store.events(record.rolloutId));
  });
}

/** Every rollout of the fleet, newest first, with its state. */
export async function fleetHistory(input: FleetInput, options: { cwd?: string } = {}): Promise<RolloutStatus[]> {
  return withFleetStore(input, options.cwd, async (store, fleet, status) => {
    const out: RolloutStatus[] = [];
    for (const record of await store.rollouts(fleet.name)) out.push(await status(record, await store.events(record.rolloutId)));
    return out;
  });
}

/** A command any machine can give a rollout. */
export type FleetCommand = "pause" | "resume" | "cancel" | "approve";

const EVENT_OF = { pause: "rollout.paused", resume: "rollout.resumed", cancel: "rollout.cancelled", approve: "wave.approved" } as const;

/**
 * Journals `pause`, `resume`, `cancel` or `approve` (the next wave) on the fleet's unfinished
 * rollout, when the rollout machine accepts it now; E_USAGE (nothing journaled) when it does not.
 */
export async function fleetCommand(input: FleetInput, command: FleetCommand, options: { cwd?: string } = {}): Promise<RolloutStatus> {
  return withFleetStore(input, options.cwd, async (store, fleet, status) => {
    const open = await unfinished(store, fleet);
    if (!open)
      throw new UpgradeError("E_NOT_FOUND", `fleet ${fleet.name} has no unfinished rollout to ${command}`, {
        hint: "see `upgrade-machine fleet status`",
      });
    const events = await store.withRollout(open.rolloutId, async (tx) => {
      const events = await tx.events();
      const before = foldRolloutJournal(events);
      const payload: Record<string, Json> = command === "approve" ? { wave: before.context.wave + 1 } : {};
      const [after] = transition(rolloutMachine, before, { type: EVENT_OF[command], ...payload } as RolloutEvent);
      if (after.value === before.value && after.context === before.context) {
        throw new UpgradeError("E_USAGE", `the rollout is ${String(before.value)}: it cannot be given \`${command}\` now`, {
          hint:
            command === "approve"
              ? 'approve is for a fleet with "approve": true, for the wave after the open one'
              : "see `upgrade-machine fleet status`",
        });
      }
      return [...events, await tx.append({ type: EVENT_OF[command], target: null, payload })];
    });
    return status(open, events);
  });
}
