import { UpgradeError } from "../errors.js";
import { fileDrift, restoreFile } from "../fs/files.js";
import { linkDrift, restoreLinks, type LinkHop } from "../fs/links.js";
import { readVersion } from "./commands.js";
import { maybeOutputOf, outputOf } from "./output-of.js";
import type { RestoreProof, SealOutput } from "./outputs.js";
import { checkOneVersionRuns } from "./running-check.js";
import type { BuiltInStep, StepContext } from "./types.js";

/** The symbolic links leading to the database file, as preflight found them (none for a server). */
function databaseLinks(ctx: StepContext): LinkHop[] {
  return maybeOutputOf(ctx.run, "preflight")?.databaseFile?.links ?? [];
}

/**
 * Puts the database file's symbolic links back as preflight found them (the restore writes the
 * real file they lead to), puts the restore point back (sha256 checked first; atomic where the
 * dialect allows), then proves it at once, before the previous version starts and writes to it
 * again: the database's fingerprint equals the one taken at the stop (E_RESTORE otherwise).
 */
export const restoreDatabase: BuiltInStep<"restoreDatabase"> = {
  async run(ctx) {
    const seal = outputOf(ctx, "seal");
    await restoreLinks(databaseLinks(ctx));
    const fingerprint = await restoreAndProve(ctx, seal);
    return { restored: seal.restorePoint.path, sha256: seal.restorePoint.sha256, fingerprint };
  },
};

/**
 * Puts `point`'s restore point back through the adapter (sha256 checked first; atomic where the
 * dialect allows) and proves it at once: the database's fingerprint equals the one the restore
 * point was taken with (E_RESTORE otherwise, naming the tables that differ). Returns that hash.
 */
export async function restoreAndProve(ctx: StepContext, point: Pick<SealOutput, "restorePoint" | "fingerprint">): Promise<string> {
  const db = await ctx.database();
  await db.restore(point.restorePoint, { onProgress: ctx.progress, signal: ctx.signal, expected: point.fingerprint });
  const now = await db.fingerprint();
  if (now.hash !== point.fingerprint.hash) {
    const tables = new Set([...Object.keys(now.tables), ...Object.keys(point.fingerprint.tables)]);
    const differing = [...tables].filter((t) => now.tables[t]?.hash !== point.fingerprint.tables[t]?.hash);
    throw new UpgradeError(
      "E_RESTORE",
      `the restored database differs from the restore point${differing.length ? ` in ${differing.join(", ")}` : " in its schema"}`,
      {
        hint: `restore ${point.restorePoint.path} by hand before starting the service`,
        details: { differing },
      },
    );
  }
  return now.hash;
}

/**
 * Puts every configuration file back: its symbolic links as they were, the real file byte for
 * byte with its mode and owner (or removes one that did not exist).
 */
export const restoreFiles: BuiltInStep<"restoreFiles"> = {
  skip: (ctx) => (ctx.config.files?.length ? undefined : "no files"),
  async run(ctx) {
    const { files } = outputOf(ctx, "seal");
    for (const copy of files) await restoreFile(copy);
    return { restored: files.map((f) => f.path) };
  },
};

/**
 * The proof of the restored data: the journal holds restoreDatabase's proof that the database
 * equalled the restore point (taken before the service started and wrote to it), a database left
 * without a service still equals it now, the database's symbolic links are the ones preflight
 * found, every file's links, real file, sha256, mode and owner equal its backup's, and the
 * installed version is the previous one.
 */
export async function proveRestore(ctx: StepContext): Promise<RestoreProof> {
  const seal = outputOf(ctx, "seal");
  const proof = maybeOutputOf(ctx.run, "restoreDatabase");
  if (proof?.fingerprint !== seal.fingerprint.hash) {
    throw new UpgradeError("E_VERIFY", "the journal holds no proof that the restored database equalled the restore point", {
      hint: `stop the service and restore ${seal.restorePoint.path} by hand`,
    });
  }
  if (ctx.run.skipped.startPrevious !== undefined) {
    const now = await (await ctx.database()).fingerprint();
    if (now.hash !== seal.fingerprint.hash) {
      throw new UpgradeError("E_VERIFY", "the database changed after it was restored, with no service running", {
        hint: `find what writes to it, then restore ${seal.restorePoint.path} by hand`,
      });
    }
  }
  const dbLinks = await linkDrift(databaseLinks(ctx));
  if (dbLinks)
    throw new UpgradeError("E_VERIFY", `the database's symbolic link changed: ${dbLinks}`, {
      hint: "put the link back by hand (see the run's manual steps)",
    });
  for (const f of seal.files) {
    const drift = await fileDrift(f);
    if (drift) {
      const real = f.realPath ?? f.path;
      throw new UpgradeError("E_VERIFY", `${f.path} differs from its backup: ${drift}`, {
        hint: f.backup ? `copy ${f.backup} over ${real} by hand` : `remove ${real}`,
      });
    }
  }
  const version = await readVersion(ctx);
  if (ctx.run.fromVersion && version !== null && version !== ctx.run.fromVersion) {
    throw new UpgradeError("E_VERIFY", `the installed version is ${version}, not ${ctx.run.fromVersion}`, {
      hint: "reinstall the previous version by hand",
    });
  }
  return { fingerprint: seal.fingerprint.hash, files: seal.files.length, version };
}

/**
 * Proves the rollback: the restored data (`proveRestore`), then that exactly one version runs,
 * the previous one, or none if none ran before the run (`checkOneVersionRuns`).
 */
export const verifyRestore: BuiltInStep<"verifyRestore"> = {
  async run(ctx) {
    const proof = await proveRestore(ctx);
    return { ...proof, running: await checkOneVersionRuns(ctx) };
  },
};
