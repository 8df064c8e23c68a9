import { join } from "node:path";
import { FORWARD_STEPS, type StepName } from "../machines/index.js";
import { openAdapter } from "./adapters/open.js";
import type { BackupArtifact } from "./adapters/types.js";
import { UpgradeError } from "./errors.js";
import { sha256OrNull } from "./fs/files.js";
import { RunJournal } from "./journal/journal.js";
import type { JournalEvent, RunRecord } from "./journal/types.js";
import { runMigrations } from "./migrations/runner.js";
import { foldJournal } from "./runner/fold.js";
import { runResult, type RunResult } from "./runner/result.js";
import { resumeRun, startRun } from "./runner/runner.js";
import { resolveInput, runnerOptions, stepsFor, withJournal, type ConfigInput, type DriveOptions } from "./session.js";
import { readVersion } from "./steps/commands.js";
import { requestChecks } from "./steps/preflight.js";
import type { StepContext } from "./steps/types.js";
import { targetId } from "./url.js";

/** Options of `upgrade()`. */
export interface UpgradeOptions extends DriveOptions {
  /** The version to install: `{toVersion}` in commands; checked against `package.version` after. */
  toVersion?: string | null;
}

/**
 * Runs a whole upgrade: preflight, backup, announce, grace, stop, seal, upgrade the package,
 * migrate, verify, start, health; rolls back on failure. Resolves with the final state
 * (`completed`, `rolledBack`, `aborted` or `failed`); throws only when no run could start
 * (E_CONFIG, E_BUSY, E_UNFINISHED...).
 */
export async function upgrade(config: ConfigInput, options: UpgradeOptions = {}): Promise<RunResult> {
  const resolved = await resolveInput(config, options.cwd);
  requestChecks(resolved, options.toVersion ?? null);
  return withJournal(resolved, (store) => startRun(runnerOptions(resolved, store, options), { toVersion: options.toVersion ?? null }));
}

/** Continues an interrupted run (the latest of the target, or `runId`) from its journal. */
export async function resume(config: ConfigInput, options: DriveOptions & { runId?: string } = {}): Promise<RunResult> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, (store) => resumeRun(runnerOptions(resolved, store, options), options.runId ? { runId: options.runId } : {}));
}

/** The state of the latest run (or `runId`), folded from the journal; `none` when there is none. */
export async function status(config: ConfigInput, options: { cwd?: string; runId?: string } = {}): Promise<RunResult | { state: "none"; runId: null; step: null; fromVersion: null; toVersion: null }> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => {
    const runId = options.runId ?? (await store.runs(targetId(resolved.target)))[0]?.runId;
    if (!runId) return { state: "none" as const, runId: null, step: null, fromVersion: null, toVersion: null };
    const journal = await RunJournal.open(store, runId);
    if (!journal.events.length) throw new UpgradeError("E_NOT_FOUND", `run ${runId} does not exist`, { hint: "list runs with `upgrade-machine history`" });
    return runResult(runId, journal.events, foldJournal(journal.events));
  });
}

/** The runs of the config's target, newest first. */
export async function listRuns(config: ConfigInput, options: { cwd?: string } = {}): Promise<RunRecord[]> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, (store) => store.runs(targetId(resolved.target)));
}

/** The events of one run (default: the latest), hash chain verified (E_JOURNAL_TAMPERED). */
export async function history(config: ConfigInput, options: { cwd?: string; runId?: string } = {}): Promise<{ runId: string | null; events: JournalEvent[] }> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => {
    const runId = options.runId ?? (await store.runs(targetId(resolved.target)))[0]?.runId;
    if (!runId) return { runId: null, events: [] };
    const journal = await RunJournal.open(store, runId);
    return { runId, events: [...journal.events] };
  });
}

/** What `upgrade()` would do now, computed without changing anything. */
export interface Plan {
  installedVersion: string | null;
  toVersion: string | null;
  /** Pending drizzle migrations in the folder as it is now (before the package upgrade). */
  pendingMigrations: string[] | null;
  steps: { step: StepName; action: "run" | "skip"; reason?: string }[];
  /** The database adapter's lines: how backups will be taken (client tools, a hot backup that may be skipped and its cost). */
  notes: string[];
}

/** The steps that would run and the pending migrations; changes nothing. */
export async function plan(config: ConfigInput, options: { cwd?: string; toVersion?: string | null } = {}): Promise<Plan> {
  const resolved = await resolveInput(config, options.cwd);
  const effects = stepsFor(resolved);
  const db = await openAdapter(resolved.target, resolved.backup);
  try {
    const ctx = {
      runId: "plan",
      step: "preflight",
      attempt: 1,
      firstStartedAt: new Date(),
      config: resolved,
      run: { runId: null, target: null, toVersion: options.toVersion ?? null, fromVersion: null, outputs: {}, skipped: {}, attempts: {}, failure: null, rollbackFailure: null },
      backupDir: join(resolved.stateDir, "backups", "plan"),
      database: async () => db,
      progress: () => undefined,
      log: () => undefined,
      signal: new AbortController().signal,
    } satisfies StepContext;
    const installedVersion = await readVersion(ctx);
    const m = resolved.migrations;
    let pendingMigrations: string[] | null = null;
    const info = await db.check();
    if (m && "drizzle" in m) {
      pendingMigrations = info.exists ? (await runMigrations(db.migrationDriver(), m.drizzle, { dryRun: true })).pending : null;
    }
    const steps = FORWARD_STEPS.map((step) => {
      const reason = effects[step].skip?.({ ...ctx, step });
      return reason === undefined ? { step, action: "run" as const } : { step, action: "skip" as const, reason };
    });
    return { installedVersion, toVersion: options.toVersion ?? null, pendingMigrations, steps, notes: info.notes ?? [] };
  } finally {
    await db.close();
  }
}

/** A backup file found in the state directory, with its integrity when asked. */
export interface BackupInfo {
  runId: string;
  path: string;
  bytes: number | null;
  sha256: string | null;
  /** The file's sha256 equals the journal's (only with `verify`); null when not checked. */
  intact: boolean | null;
}

/** The backups of every run of the target (from the journal), optionally re-hashed. */
export async function listBackups(config: ConfigInput, options: { cwd?: string; verify?: boolean } = {}): Promise<BackupInfo[]> {
  const resolved = await resolveInput(config, options.cwd);
  return withJournal(resolved, async (store) => {
    const out: BackupInfo[] = [];
    for (const run of await store.runs(targetId(resolved.target))) {
      const events = await store.read(run.runId);
      const artifacts: BackupArtifact[] = [];
      const files: { backup: string | null; sha256: string | null; bytes: number }[] = [];
      for (const e of events) {
        if (e.type !== "step.succeeded" || !e.payload.output) continue;
        const o = e.payload.output as Record<string, unknown>;
        if (e.step === "backup") {
          if (o.database) artifacts.push(o.database as BackupArtifact);
          files.push(...(o.files as typeof files));
        }
        if (e.step === "seal" && !(o.reusedHotBackup as boolean)) artifacts.push(o.restorePoint as BackupArtifact);
      }
      for (const a of artifacts) out.push(await info(run.runId, a.path, a.bytes, a.sha256, options.verify));
      for (const f of files) if (f.backup) out.push(await info(run.runId, f.backup, f.bytes, f.sha256, options.verify));
    }
    return out;
  });
}

async function info(runId: string, path: string, bytes: number, sha256: string | null, verify?: boolean): Promise<BackupInfo> {
  return { runId, path, bytes, sha256, intact: verify ? (await sha256OrNull(path)) === sha256 : null };
}
