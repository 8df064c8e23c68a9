import { statfs } from "node:fs/promises";
import { UpgradeError } from "../errors.js";
import { resolveBackedUpPaths } from "../fs/backed-up.js";
import { ensureStateDir } from "../fs/durable.js";
import { runMigrations } from "../migrations/runner.js";
import { drizzleFolderFor, noPendingNote } from "../migrations/target-folder.js";
import { safeUrl } from "../process/http.js";
import { liveness } from "../process/liveness.js";
import { checkRequestedVersion } from "../versions.js";
import { readVersion } from "./commands.js";
import type { PreflightOutput } from "./outputs.js";
import type { ResolvedConfig } from "../config/types.js";
import type { BuiltInStep } from "./types.js";

function usesPlaceholder(argv: readonly string[] | undefined, name: string): boolean {
  return !!argv?.some((a) => a.includes(`{${name}}`));
}

/**
 * The checks a run request must pass before anything is journaled: E_USAGE when `toVersion` is
 * not a version, E_CONFIG when the package commands cannot work for this request. Called by
 * `upgrade()` before a run starts, and again by preflight (a resumed run may have been started
 * by an older config or release).
 */
export function requestChecks(c: ResolvedConfig, toVersion: string | null): void {
  checkRequestedVersion(toVersion);
  if (c.package?.upgrade && !c.package.downgrade) {
    throw new UpgradeError("E_CONFIG", "package.upgrade is configured without package.downgrade", {
      hint: "add package.downgrade (e.g. the install command with {fromVersion}) so a rollback can reinstall the previous version",
    });
  }
  if (usesPlaceholder(c.package?.upgrade?.command, "toVersion") && !toVersion) {
    throw new UpgradeError("E_CONFIG", "package.upgrade uses {toVersion} but no version was given", { hint: "pass `--to VERSION`" });
  }
  if (usesPlaceholder(c.package?.downgrade?.command, "fromVersion") && !c.package?.version) {
    throw new UpgradeError("E_CONFIG", "package.downgrade uses {fromVersion} but package.version is not configured", {
      hint: "add package.version, a command that prints the installed version",
    });
  }
  drizzleFolderFor(c, toVersion); // E_CONFIG when the folder names {toVersion} and there is none
}

/**
 * Reads the installed version (E_PREFLIGHT when `package.version` prints no version), checks
 * that the database exists, can be backed up (what the adapter chose, e.g. PostgreSQL's client
 * tools, is logged and kept in the output), and that its migrations are sound, resolves the
 * database file and every file to back up through their symbolic links (each must be a regular
 * file other than the database and the journal), creates the state directory when it is missing
 * (an existing one is left as it is), checks that it has room for two copies of the database,
 * and whether the service is running (any HTTP answer from the health URL means it is). Changes
 * nothing else.
 */
export const preflight: BuiltInStep<"preflight"> = {
  async run(ctx) {
    const c = ctx.config;
    requestChecks(c, ctx.run.toVersion);
    const fromVersion = await readVersion(ctx, "E_PREFLIGHT");
    const db = await ctx.database();
    const info = await db.check();
    if (!info.exists) {
      throw new UpgradeError("E_NOT_FOUND", `the database ${db.display} does not exist`, {
        hint: "check `database` in the config (relative paths are relative to the config file)",
      });
    }
    for (const note of info.notes ?? []) ctx.log(note);
    let pendingMigrations: string[] | null = null;
    // A restore run applies no migration: its version's folder may well predate the database's.
    const folder = ctx.restoreOf ? null : drizzleFolderFor(c, ctx.run.toVersion);
    if (folder !== null) {
      pendingMigrations = (await runMigrations(db.migrationDriver(), folder, { dryRun: true })).pending;
      const note = noPendingNote(c, pendingMigrations);
      if (note) ctx.log(note);
    }
    const paths = await resolveBackedUpPaths(
      "path" in c.target ? c.target.path : null,
      c.files ?? [],
      "path" in c.journalTarget ? [{ path: c.journalTarget.path, what: "journal" }] : [],
    );
    const filesBytes = paths.bytes;
    await ensureStateDir(c.stateDir);
    const fs = await statfs(c.stateDir);
    const free = fs.bavail * fs.bsize;
    const needed = ((info.bytes ?? 0) + filesBytes) * 2;
    if (free < needed) {
      throw new UpgradeError("E_DISK_FULL", `the state directory has ${free} bytes free; the backups need about ${needed}`, {
        hint: `free space under ${c.stateDir} or point stateDir at a larger disk`,
        details: { free, needed },
      });
    }
    const health = c.service?.health;
    const live = health ? await liveness(health.url) : null;
    if (live && live.status !== 200) ctx.log(`${safeUrl(health!.url)}: ${live.reason}`);
    const output: PreflightOutput = {
      fromVersion,
      toVersion: ctx.run.toVersion,
      serviceWasRunning: live ? live.running : null,
      databaseBytes: info.bytes ?? null,
      pendingMigrations,
      databaseFile: paths.database,
      ...(info.choices ? { database: info.choices } : {}),
    };
    if (output.serviceWasRunning === false) ctx.log("the service is not running; the stop is skipped and a rollback leaves it down");
    return output;
  },
};
