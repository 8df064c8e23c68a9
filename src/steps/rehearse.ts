import { createHash } from "node:crypto";
import type { ScratchCopy } from "../adapters/types.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { runMigrations } from "../migrations/runner.js";
import { drizzleFolderFor } from "../migrations/target-folder.js";
import { runChecked } from "../process/command.js";
import { commandOutput, placeholders } from "./commands.js";
import { maybeOutputOf, outputOf } from "./output-of.js";
import type { RehearseOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

/**
 * The scratch copy's name for a run: the same on every attempt of the run (a resume after a crash
 * finds and drops what an earlier attempt left), different for every run.
 */
export function scratchName(runId: string): string {
  return `rehearse_${createHash("sha256").update(runId).digest("hex").slice(0, 10)}`;
}

/** Why the rehearsal does not run for this config and run, or undefined when it does. Changes nothing. */
export function rehearsalSkip(ctx: Pick<StepContext, "config" | "run">): string | undefined {
  const { rehearse, migrations } = ctx.config;
  if (rehearse === false) return 'not rehearsed: turned off in the config ("rehearse": false)';
  if (!migrations) return "not rehearsed: no migrations";
  if ("command" in migrations && rehearse === true) {
    return 'not rehearsed: migrations.command is rehearsed only when the config says how ("rehearse": {"command": [..., "{databaseUrl}"]})';
  }
  const backup = maybeOutputOf(ctx.run, "backup");
  if (backup && backup.database === null) return `not rehearsed: no hot backup to copy (${backup.databaseSkipped ?? "skipped"})`;
  const pending = maybeOutputOf(ctx.run, "preflight")?.pendingMigrations;
  if (typeof rehearse === "boolean" && pending?.length === 0) return "not rehearsed: no migration is pending";
  return undefined;
}

/** What the rehearsal ran on the copy: the drizzle folder of the target version, or the rehearse command. */
async function migrateCopy(ctx: StepContext, copy: ScratchCopy): Promise<Pick<RehearseOutput, "applied" | "command">> {
  const { rehearse, migrations } = ctx.config;
  if (typeof rehearse === "object") {
    const where =
      "databasePath" in copy.location ? { databasePath: copy.location.databasePath } : { databaseUrl: copy.location.databaseUrl };
    ctx.log(`$ ${rehearse.command.join(" ")}`);
    const result = await runChecked({
      argv: rehearse.command,
      cwd: rehearse.cwd,
      env: { ...ctx.config.env, ...rehearse.env },
      timeoutMs: (rehearse.timeoutSeconds ?? 3600) * 1000,
      placeholders: { ...placeholders(ctx), ...where },
      signal: ctx.signal,
    });
    const shown = { argv: result.argv.map(ctx.redact), stdout: ctx.redact(result.stdout), stderr: ctx.redact(result.stderr) };
    return { applied: [], command: commandOutput({ ...result, shown }) };
  }
  const folder = drizzleFolderFor(ctx.config, ctx.run.toVersion)!;
  const lockTimeoutMs = (migrations && "drizzle" in migrations ? (migrations.lockTimeoutSeconds ?? 60) : 60) * 1000;
  const result = await runMigrations(copy.adapter.migrationDriver(), folder, {
    onProgress: ctx.progress,
    lockTimeoutMs,
    signal: ctx.signal,
  });
  return { applied: result.applied };
}

/** A failure on the copy, said as a rehearsal's: the migration, the statement, the database's own error. */
function rehearsalError(ctx: StepContext, err: unknown): UpgradeError {
  if (isUpgradeError(err, "E_REHEARSAL")) return err;
  const summary = isUpgradeError(err) ? err.summary : String((err as Error)?.message ?? err);
  const details = isUpgradeError(err) ? (err.details ?? {}) : {};
  const statement = typeof details.statement === "string" ? ` (statement: ${details.statement.replace(/\s+/g, " ")})` : "";
  return new UpgradeError(
    "E_REHEARSAL",
    ctx.redact(`the rehearsal on a copy of the hot backup failed: ${summary}${statement}; nothing was announced or stopped`),
    {
      hint: "fix the migration, or the data it trips on, and run again (`upgrade-machine plan --rehearse` tries it without a run)",
      details: { ...(isUpgradeError(err) ? { code: err.code } : {}), ...details },
      cause: err,
    },
  );
}

/**
 * Rehearses the migrations before anyone is told: a scratch copy of the hot backup (the adapter's
 * `scratchCopy`), the pending migrations of the target version applied to it with the same runner
 * (or the `rehearse` command run against it), then the copy dropped, also on failure. A failure is
 * E_REHEARSAL naming the migration, the statement and the database's error: the run ends
 * `aborted`, nothing announced, nothing stopped. Re-run after a crash: the copy an earlier attempt
 * left (same name) is dropped and made again.
 */
export const rehearse: BuiltInStep<"rehearse"> = {
  skip: (ctx) => rehearsalSkip(ctx),
  async run(ctx) {
    const db = await ctx.database();
    const hot = outputOf(ctx, "backup").database!;
    const name = scratchName(ctx.runId);
    const started = performance.now();
    let copy: ScratchCopy | undefined;
    try {
      copy = await db.scratchCopy(hot, ctx.backupDir, name);
      ctx.log(`rehearsal: ${copy.how}, ${copy.bytes} bytes, at ${copy.display}`);
      const t0 = performance.now();
      const done = await migrateCopy(ctx, copy);
      const migrated = (performance.now() - t0) / 1000;
      ctx.log(`rehearsal: ${done.applied.length ? done.applied.join(", ") : "the command"} passed on the copy in ${migrated.toFixed(2)} s`);
      const copySeconds = (t0 - started) / 1000;
      const output: RehearseOutput = { seconds: migrated, copyBytes: copy.bytes, copy: copy.how, copySeconds, ...done };
      return output;
    } catch (err) {
      throw rehearsalError(ctx, err);
    } finally {
      await copy?.adapter.close().catch(() => undefined);
      await db.dropScratch(ctx.backupDir, name);
      ctx.log("rehearsal: scratch copy dropped");
    }
  },
};
