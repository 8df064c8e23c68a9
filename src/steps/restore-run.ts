import { UpgradeError } from "../errors.js";
import { fileDrift, restoreFile } from "../fs/files.js";
import { commandOutput, readVersion, runSpec } from "./commands.js";
import type { CommandRecord, PackageOutput } from "./outputs.js";
import { installAndCheck } from "./package.js";
import { restoreAndProve } from "./restore.js";
import type { RestoreSource } from "./restore-source.js";
import type { StepContext, StepDefinition, StepEffects, StepImplementations } from "./types.js";

// A restore run (`upgrade-machine restore --run ID`) is the upgrade flow with three steps doing
// the restore's work: upgradePackage reinstalls the version that ran before the other run,
// migrate puts the other run's restore point back (database, then files), verify proves them.
// Every other step, the rollback included, is the upgrade's: the run's own backup and seal are
// the present state, and a failed restore is rolled back to it.

/** migrate's output in a restore run: what was put back and the proof taken at once. */
export interface PutBackOutput {
  /** The run whose restore point was put back. */
  restoredFrom: string;
  /** The restore point's path. */
  restored: string;
  /** The database's fingerprint hash after the restore, equal to the restore point's. */
  fingerprint: string;
  /** The files put back. */
  files: string[];
}

/** verify's output in a restore run: the proof that the target is the restore point. */
export interface ProveRestoredOutput {
  fingerprint: string;
  files: number;
  version: string | null;
  checks: CommandRecord[];
}

/** The restore point the run puts back; E_JOURNAL_MISMATCH when the run is not a restore. */
function sourceOf(ctx: StepContext): RestoreSource {
  if (ctx.restoreOf) return ctx.restoreOf;
  throw new UpgradeError("E_JOURNAL_MISMATCH", `step ${ctx.step} of a restore run was given no restore point`, {
    hint: "the run's run.requested event holds none: abandon the run",
  });
}

/** Reinstalls the version that ran before the restored run: `package.downgrade` with `{fromVersion}` that version. */
export const installRestored: StepDefinition<"upgradePackage", PackageOutput> = {
  skip: (ctx) => {
    if (!ctx.config.package?.downgrade) return "no package.downgrade";
    return sourceOf(ctx).version === null ? "the restored run recorded no installed version" : undefined;
  },
  run(ctx) {
    const version = sourceOf(ctx).version!;
    return installAndCheck({ ...ctx, run: { ...ctx.run, fromVersion: version, toVersion: version } }, "downgrade", version);
  },
};

/** Puts the other run's restore point back and proves the database equal to it at once, then its files. */
export const putBackRestorePoint: StepDefinition<"migrate", PutBackOutput> = {
  async run(ctx) {
    const { runId, seal } = sourceOf(ctx);
    const fingerprint = await restoreAndProve(ctx, seal);
    for (const copy of seal.files) await restoreFile(copy);
    return { restoredFrom: runId, restored: seal.restorePoint.path, fingerprint, files: seal.files.map((f) => f.path) };
  },
};

/**
 * The proof of a restore run, before anything starts: the database's fingerprint equals the
 * restore point's, every file's links, content, mode and owner equal its backup's, and the
 * installed version is the one that ran before the restored run; then the `verify` commands.
 */
export const proveRestored: StepDefinition<"verify", ProveRestoredOutput> = {
  async run(ctx) {
    const { seal, version } = sourceOf(ctx);
    const now = await (await ctx.database()).fingerprint();
    if (now.hash !== seal.fingerprint.hash) {
      throw new UpgradeError("E_VERIFY", "the database differs from the restore point it was restored from", {
        hint: "something wrote to it after the restore: the run rolls back to the state before the restore",
      });
    }
    for (const f of seal.files) {
      const drift = await fileDrift(f);
      if (drift)
        throw new UpgradeError("E_VERIFY", `${f.path} differs from its backup: ${drift}`, { hint: `copy ${f.backup} over it by hand` });
    }
    const installed = await readVersion(ctx);
    if (version !== null && installed !== null && installed !== version) {
      throw new UpgradeError("E_VERIFY", `the installed version is ${installed}, not ${version}`, { hint: "check package.downgrade" });
    }
    const checks = [];
    for (const spec of ctx.config.verify ?? []) checks.push(commandOutput(await runSpec(ctx, spec, 600)));
    return { fingerprint: now.hash, files: seal.files.length, version: installed, checks };
  },
};

/** lint and rehearse in a restore run: nothing is migrated, a restore point is put back. */
const noMigration = {
  skip: () => "a restore run applies no migration: it puts a restore point back",
  run: async () => null,
};

/** The effects of a restore run: `steps` (the upgrade's) with the restore's in place of theirs, and no lint or rehearsal. */
export function restoreRunSteps(steps: StepImplementations): StepEffects {
  return {
    ...steps,
    lint: noMigration,
    rehearse: noMigration,
    upgradePackage: installRestored,
    migrate: putBackRestorePoint,
    verify: proveRestored,
  };
}
