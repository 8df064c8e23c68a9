import { join } from "node:path";
import { FORWARD_STEPS, type StepName, type UpgradeContext } from "../../machines/index.js";
import { openAdapter } from "../adapters/registry.js";
import { planLint, type PlanLint } from "../lint/plan-lint.js";
import { runMigrations } from "../migrations/runner.js";
import { drizzleFolderFor, noPendingNote, TO_VERSION } from "../migrations/target-folder.js";
import { keyOf, redactorOf, resolveInput, stepsFor, withJournal, type ConfigInput } from "../session.js";
import { readVersion } from "../steps/commands.js";
import { toJson } from "../steps/output-of.js";
import type { PreflightOutput } from "../steps/outputs.js";
import type { StepContext } from "../steps/types.js";
import { checkRequestedVersion } from "../versions.js";
import { lastRehearsal, type DowntimeEstimate } from "./estimate.js";
import { freeBytes } from "./free-space.js";
import { rehearseNow, type RehearsalNow } from "./rehearse-now.js";

/** What `upgrade()` would do now, computed without changing anything. */
export interface Plan {
  installedVersion: string | null;
  toVersion: string | null;
  /** Pending drizzle migrations in the folder as it is now (before the package upgrade). */
  pendingMigrations: string[] | null;
  steps: { step: StepName; action: "run" | "skip"; reason?: string }[];
  /** The database adapter's lines: how backups will be taken (client tools, a hot backup that may be skipped and its cost). */
  notes: string[];
  /** The lint of the pending migrations on the live data, read-only, per migration; null when there is nothing to lint. */
  lint: PlanLint | null;
  /** What to fix when the migrations folder cannot show what the new version brings (nothing pending, or `{toVersion}` without `--to`). */
  migrationNote: string | null;
  /** `plan --rehearse`: the rehearsal run now on a copy of a hot backup; null without `--rehearse`. */
  rehearsal: RehearsalNow | null;
  /** The migrations' expected downtime: the rehearsal now, else the last rehearsal of this target in the journal; null when none. */
  downtimeEstimate: DowntimeEstimate | null;
  /** The database's size in bytes: about what its backup holds (null when it cannot be told). */
  backupBytes: number | null;
  /** Bytes free in the state directory (where backups go). */
  freeBytes: number | null;
}

/**
 * The steps that would run, the pending migrations, the downtime estimate, the backup's size and
 * the free space; changes nothing. With `rehearse`, also rehearses the migrations now (a hot
 * backup and a scratch copy, both dropped after).
 */
export async function plan(
  config: ConfigInput,
  options: { cwd?: string; toVersion?: string | null; rehearse?: boolean } = {},
): Promise<Plan> {
  const resolved = await resolveInput(config, options.cwd);
  checkRequestedVersion(options.toVersion);
  const effects = stepsFor(resolved);
  const db = await openAdapter(resolved.target, resolved.backup);
  try {
    const ctx = {
      runId: "plan",
      step: "preflight",
      attempt: 1,
      firstStartedAt: new Date(),
      config: resolved,
      run: {
        runId: null,
        target: null,
        toVersion: options.toVersion ?? null,
        fromVersion: null,
        outputs: {} as UpgradeContext["outputs"],
        skipped: {},
        attempts: {},
        failure: null,
        rollbackFailure: null,
      },
      backupDir: join(resolved.stateDir, "backups", "plan"),
      database: async () => db,
      progress: () => undefined,
      log: () => undefined,
      redact: redactorOf(resolved),
      signal: new AbortController().signal,
    } satisfies StepContext;
    const installedVersion = await readVersion(ctx, "E_PREFLIGHT");
    const toVersion = options.toVersion ?? null;
    const m = resolved.migrations;
    let pendingMigrations: string[] | null = null;
    let migrationNote: string | null = null;
    const info = await db.check();
    const folder =
      m && "drizzle" in m && (toVersion !== null || !m.drizzle.includes(TO_VERSION)) ? drizzleFolderFor(resolved, toVersion) : null;
    if (m && "drizzle" in m && folder === null)
      migrationNote = `migrations.drizzle names ${TO_VERSION} (${m.drizzle}): pass --to VERSION to see the migrations that version brings`;
    if (folder !== null) {
      pendingMigrations = info.exists ? (await runMigrations(db.migrationDriver(), folder, { dryRun: true })).pending : null;
      migrationNote = noPendingNote(resolved, pendingMigrations);
    }
    const seen: PreflightOutput = {
      fromVersion: installedVersion,
      toVersion,
      serviceWasRunning: null,
      databaseBytes: info.bytes ?? null,
      pendingMigrations,
    };
    ctx.run.outputs.preflight = toJson(seen);
    const rehearsal = options.rehearse && info.exists ? await rehearseNow(ctx, db) : null;
    const last = await withJournal(resolved, async (store) => lastRehearsal(store, await keyOf(resolved), toVersion));
    const downtimeEstimate =
      rehearsal?.outcome === "passed"
        ? { migrationSeconds: rehearsal.seconds, source: "rehearsal now", toVersion, applied: rehearsal.applied }
        : last;
    const steps = [];
    for (const step of FORWARD_STEPS) {
      const reason = await effects[step].skip?.({ ...ctx, step });
      steps.push(reason === undefined ? { step, action: "run" as const } : { step, action: "skip" as const, reason });
    }
    const lint = await planLint(resolved, db, options.toVersion ?? null, info.exists);
    return {
      installedVersion,
      toVersion,
      pendingMigrations,
      steps,
      notes: info.notes ?? [],
      migrationNote,
      rehearsal,
      downtimeEstimate,
      backupBytes: info.bytes ?? null,
      freeBytes: await freeBytes(resolved.stateDir),
      lint,
    };
  } finally {
    await db.close();
  }
}
