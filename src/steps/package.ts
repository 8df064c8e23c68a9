import { UpgradeError } from "../errors.js";
import { commandOutput, readVersion, runSpec } from "./commands.js";
import type { PackageOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

/** Runs `package.<which>` and checks that `package.version` then reports `expected` (E_VERSION otherwise). */
export async function installAndCheck(ctx: StepContext, which: "upgrade" | "downgrade", expected: string | null): Promise<PackageOutput> {
  const out = commandOutput(await runSpec(ctx, ctx.config.package![which]!, 1800));
  const installed = await readVersion(ctx);
  if (expected && installed !== null && installed !== expected) {
    throw new UpgradeError("E_VERSION", `after package.${which} the installed version is ${installed}, not ${expected}`, {
      hint: `check package.${which} and package.version`,
      details: { installed, expected },
    });
  }
  return { command: out, installedVersion: installed };
}

/** Installs the new version (`package.upgrade`), then checks `package.version` reports it. */
export const upgradePackage: BuiltInStep<"upgradePackage"> = {
  skip: (ctx) => (ctx.config.package?.upgrade ? undefined : "no package.upgrade"),
  run: (ctx) => installAndCheck(ctx, "upgrade", ctx.run.toVersion),
};

/** In the rollback: reinstalls the version preflight found (`package.downgrade`). */
export const reinstallPrevious: BuiltInStep<"reinstallPrevious"> = {
  skip: (ctx) => (ctx.config.package?.downgrade && ctx.config.package.upgrade ? undefined : "no package.upgrade/downgrade"),
  run: (ctx) => installAndCheck(ctx, "downgrade", ctx.run.fromVersion),
};
