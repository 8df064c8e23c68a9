import { UpgradeError } from "../errors.js";
import { runMigrations } from "../migrations/runner.js";
import { drizzleFolderFor } from "../migrations/target-folder.js";
import { commandOutput, runSpec } from "./commands.js";
import type { BuiltInStep } from "./types.js";

/**
 * Migrates the database: a drizzle-kit folder through the adapter's migration driver (one
 * transaction per migration, under a lock, checksums checked), or the service's own command.
 */
export const migrate: BuiltInStep<"migrate"> = {
  skip: (ctx) => (ctx.config.migrations ? undefined : "no migrations"),
  async run(ctx) {
    const m = ctx.config.migrations!;
    if ("drizzle" in m) {
      const db = await ctx.database();
      const result = await runMigrations(db.migrationDriver(), drizzleFolderFor(ctx.config, ctx.run.toVersion)!, {
        onProgress: ctx.progress,
        lockTimeoutMs: (m.lockTimeoutSeconds ?? 60) * 1000,
      });
      return { applied: result.applied, alreadyApplied: result.alreadyApplied.length };
    }
    const { command, ...rest } = m;
    return commandOutput(await runSpec(ctx, { command, ...rest }, 3600));
  },
};

/** Runs the `verify` commands; with drizzle migrations, also checks none is left pending. */
export const verify: BuiltInStep<"verify"> = {
  skip: (ctx) =>
    ctx.config.verify?.length || (ctx.config.migrations && "drizzle" in ctx.config.migrations) ? undefined : "nothing to verify",
  async run(ctx) {
    const m = ctx.config.migrations;
    let pending: string[] = [];
    if (m && "drizzle" in m) {
      const db = await ctx.database();
      pending = (await runMigrations(db.migrationDriver(), drizzleFolderFor(ctx.config, ctx.run.toVersion)!, { dryRun: true })).pending;
      if (pending.length) {
        throw new UpgradeError("E_VERIFY", `migrations still pending after migrate: ${pending.join(", ")}`, {
          hint: "run `upgrade-machine plan` to see why",
        });
      }
    }
    const checks = [];
    for (const spec of ctx.config.verify ?? []) checks.push(commandOutput(await runSpec(ctx, spec, 600)));
    return { checks, pending };
  },
};
