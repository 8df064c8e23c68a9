import type { Json } from "../../machines/index.js";
import type { BackupArtifact, Fingerprint } from "../adapters/types.js";
import { UpgradeError } from "../errors.js";
import type { FileCopy } from "../fs/files.js";
import type { ResolvedPath } from "../fs/links.js";
import type { StepContext } from "./types.js";

/** What preflight found out. */
export interface PreflightOutput {
  fromVersion: string | null;
  toVersion: string | null;
  /** Whether the service answered before the run; null when it cannot be told (no health URL). */
  serviceWasRunning: boolean | null;
  databaseBytes: number | null;
  pendingMigrations: string[] | null;
  /** The database file and the symbolic links leading to it (SQLite); absent in older journals. */
  databaseFile?: ResolvedPath | null;
  /** What the database adapter chose (server version, backup strategy, client tools), when it says. */
  database?: Record<string, unknown>;
}

/** The hot backup, taken while the service still runs. */
export interface BackupOutput {
  /** null when the adapter could not take one (see `databaseSkipped`): seal then takes the restore point. */
  database: (BackupArtifact & { fingerprint: Fingerprint | null }) | null;
  /** Why there is no hot backup of the database. */
  databaseSkipped?: string;
  files: FileCopy[];
}

/** The restore point, exact as of the stop. */
export interface SealOutput {
  restorePoint: BackupArtifact;
  fingerprint: Fingerprint;
  /** True when the hot backup already equalled the stopped database. */
  reusedHotBackup: boolean;
  files: FileCopy[];
}

/** The output of an earlier step, typed; E_JOURNAL_MISMATCH when that step has none. */
export function outputOf<T>(ctx: StepContext, step: "preflight" | "backup" | "seal"): T {
  const out = ctx.run.outputs[step];
  if (out === undefined || out === null) {
    throw new UpgradeError("E_JOURNAL_MISMATCH", `step ${ctx.step} needs the output of ${step}, which the journal does not have`, {
      hint: "the journal is incomplete; finish the run by hand from the backup folder " + ctx.backupDir,
    });
  }
  return out as unknown as T;
}

/** Whether the service ran before the run (unknown counts as running, the safe side). */
export function serviceWasRunning(ctx: StepContext): boolean {
  const pre = ctx.run.outputs.preflight as unknown as PreflightOutput | undefined;
  return pre?.serviceWasRunning !== false;
}

/** A value as the journal stores it. */
export function json(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
