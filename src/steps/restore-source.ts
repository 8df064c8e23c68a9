import type { Json } from "../../machines/index.js";
import { UpgradeError } from "../errors.js";
import { describeMismatch, nullable, object, str } from "./json-guard.js";
import { sealOutput } from "./output-guards.js";
import type { SealOutput } from "./outputs.js";

/** What a run does: an upgrade (every run before restores existed), or a restore of another run's restore point. */
export type RunKind = "upgrade" | "restore";

/**
 * The restore point a restore run puts back, as its `run.requested` journals it: the journal of
 * the restore run holds all it needs, so a resume reads nothing from the other run.
 */
export interface RestoreSource {
  /** The run whose restore point is put back. */
  runId: string;
  /** The version installed before that run (its preflight's), which the restore reinstalls; null when it recorded none. */
  version: string | null;
  /** That run's seal: the restore point, its fingerprint, the files' copies. */
  seal: SealOutput;
}

const restoreSource = object<RestoreSource>({ runId: str, version: nullable(str), seal: sealOutput });

/** What a run's `run.requested` asked for: its kind and, for a restore, what it puts back. */
export interface RunRequestRecord {
  kind: RunKind;
  restoreOf: RestoreSource | null;
  /** `--allow-destructive`: the lint's destructive findings do not refuse the run. */
  allowDestructive: boolean;
}

/**
 * The kind of a run and its restore source, from its `run.requested` payload (no `kind`: an
 * upgrade, as every run written before restores existed). E_JOURNAL_MISMATCH when a restore's
 * source is not of the shape this version reads.
 */
export function runRequestOf(payload: { [key: string]: Json } | undefined): RunRequestRecord {
  const allowDestructive = payload?.allowDestructive === true;
  if (payload?.kind !== "restore") return { kind: "upgrade", restoreOf: null, allowDestructive };
  const where: string[] = [];
  if (restoreSource(payload.restoreOf, where)) return { kind: "restore", restoreOf: payload.restoreOf, allowDestructive };
  throw new UpgradeError(
    "E_JOURNAL_MISMATCH",
    `the journal's restore request is not what this version of upgrade-machine reads: ${describeMismatch(where)}`,
    { hint: "the run was written by another version of upgrade-machine: finish it with that version, or abandon it" },
  );
}
