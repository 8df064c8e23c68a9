import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError } from "../errors.js";

/** The placeholder of `migrations.drizzle` that names the version being installed. */
export const TO_VERSION = "{toVersion}";

/**
 * The drizzle-kit folder of the version a run installs: `migrations.drizzle` with `{toVersion}`
 * filled in (e.g. `./releases/{toVersion}/drizzle`), so its pending migrations can be read before
 * the package is upgraded. Null when the config has no drizzle folder.
 *
 * @throws UpgradeError E_CONFIG when the folder names `{toVersion}` and the run has no target version.
 */
export function drizzleFolderFor(config: ResolvedConfig, toVersion: string | null): string | null {
  const m = config.migrations;
  if (!m || !("drizzle" in m)) return null;
  if (!m.drizzle.includes(TO_VERSION)) return m.drizzle;
  if (toVersion === null) {
    throw new UpgradeError("E_CONFIG", `migrations.drizzle names ${TO_VERSION} (${m.drizzle}) but this run has no target version`, {
      hint: "pass --to VERSION",
    });
  }
  return m.drizzle.split(TO_VERSION).join(toVersion);
}
