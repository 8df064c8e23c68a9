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

/**
 * The line to say when nothing is pending in the folder before the upgrade and the folder does not
 * name `{toVersion}`: it is probably the running version's folder, so the new version's migrations
 * are neither rehearsed nor shown. Null when there is nothing to say.
 */
export function noPendingNote(config: ResolvedConfig, pending: readonly string[] | null): string | null {
  const m = config.migrations;
  if (!m || !("drizzle" in m) || m.drizzle.includes(TO_VERSION) || pending === null || pending.length > 0) return null;
  return `no migration is pending in ${m.drizzle} before the upgrade: if it is the running version's folder, the new version's migrations are not rehearsed; point migrations.drizzle at the new version's folder with ${TO_VERSION} (e.g. "./releases/${TO_VERSION}/drizzle")`;
}
