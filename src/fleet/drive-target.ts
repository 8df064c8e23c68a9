import type { FleetTargetEnd } from "../../machines/index.js";
import { openJournalStore, targetKey } from "../adapters/registry.js";
import { resume, status, upgrade } from "../api.js";
import { loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { latestRun } from "../journal/latest-run.js";
import type { RunResult } from "../runner/result.js";
import type { RunnerEvent } from "../runner/runner-events.js";
import type { FleetTarget, ResolvedFleet } from "./types.js";

/** A target's config with the fleet's journal in place of its own: every run of the fleet is in the shared journal. */
export async function fleetConfigOf(fleet: ResolvedFleet, target: FleetTarget): Promise<ResolvedConfig> {
  const config = await loadConfig(target.config);
  return { ...config, journal: fleet.journal, journalTarget: fleet.journalTarget };
}

/** The journal key of every target of a fleet, by target name. */
export async function targetKeys(fleet: ResolvedFleet): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const t of fleet.targets) keys.set(t.name, await targetKey((await loadConfig(t.config)).target));
  return keys;
}

/** How a target's drive came out: its run ended, or it must be tried again later (its lease is held elsewhere). */
export type TargetOutcome =
  | { ended: true; state: FleetTargetEnd; runId: string | null; error?: { code: string; message: string; hint?: string } }
  | { ended: false; error: UpgradeError };

/** Another driver holds or took the target (its lease, the journal's fence), or the journal is unreachable: try again later. */
const GIVE_BACK: string[] = ["E_BUSY", "E_FENCED", "E_CONNECT", "E_JOURNAL"];

const endOf = (r: RunResult): FleetTargetEnd => (r.state === "abandoned" || r.state === "running" ? "aborted" : r.state);

/**
 * Drives one target to the end of its run: a run started by this rollout (newer than `baseline`,
 * the target's latest run before the rollout first claimed it) is resumed from its journal, or
 * read when it already ended, so a target is never run twice; otherwise a new run starts.
 * E_BUSY, E_FENCED (another driver holds or took its lease: a dead worker's lease not yet
 * expired), E_CONNECT and E_JOURNAL are given back for a later try; any other refusal ends the target `aborted` (nothing was changed).
 */
export async function driveTarget(
  fleet: ResolvedFleet,
  target: FleetTarget,
  baseline: string | null,
  options: { toVersion: string; onEvent?: (e: RunnerEvent) => void; signal?: AbortSignal; hold?: AbortSignal },
): Promise<TargetOutcome> {
  try {
    const config = await fleetConfigOf(fleet, target);
    const drive = {
      leaseTtlMs: fleet.leaseMs,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.hold ? { hold: options.hold } : {}),
    };
    const store = await openJournalStore(fleet.journalTarget, { create: true });
    const latest = store ? await latestRun(store, await targetKey(config.target)).finally(() => store.close()) : null;
    let result: RunResult;
    if (latest && latest.runId !== baseline) {
      const now = await status(config, { runId: latest.runId });
      result = now.state === "running" ? await resume(config, { ...drive, runId: latest.runId }) : (now as RunResult);
    } else {
      result = await upgrade(config, { ...drive, toVersion: options.toVersion });
    }
    if (result.state === "running") {
      return {
        ended: false,
        error: new UpgradeError("E_BUSY", `the run ${result.runId} of ${target.name} stopped unfinished`, {
          hint: "another worker resumes it",
        }),
      };
    }
    return { ended: true, state: endOf(result), runId: result.runId };
  } catch (err) {
    if (isUpgradeError(err) && GIVE_BACK.includes(err.code)) return { ended: false, error: err };
    const e = isUpgradeError(err) ? err : new UpgradeError("E_INTERNAL", String((err as Error)?.message ?? err));
    return { ended: true, state: "aborted", runId: null, error: { code: e.code, message: e.summary, ...(e.hint ? { hint: e.hint } : {}) } };
  }
}
