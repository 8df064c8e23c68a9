import { UpgradeError } from "../errors.js";
import { restoreFile, sha256OrNull } from "../fs/files.js";
import { readVersion } from "./commands.js";
import { json, outputOf, type SealOutput } from "./outputs.js";
import { checkOneVersionRuns } from "./running-check.js";
import type { StepContext, StepDefinition } from "./types.js";

/**
 * Puts the restore point back (sha256 checked first; atomic where the dialect allows), then proves
 * it at once, before the previous version starts and writes to it again: the database's
 * fingerprint equals the one taken at the stop (E_RESTORE otherwise).
 */
export const restoreDatabase: StepDefinition = {
  async run(ctx) {
    const seal = outputOf<SealOutput>(ctx, "seal");
    const db = await ctx.database();
    await db.restore(seal.restorePoint, { onProgress: ctx.progress, signal: ctx.signal });
    const now = await db.fingerprint();
    if (now.hash !== seal.fingerprint.hash) {
      const tables = new Set([...Object.keys(now.tables), ...Object.keys(seal.fingerprint.tables)]);
      const differing = [...tables].filter((t) => now.tables[t]?.hash !== seal.fingerprint.tables[t]?.hash);
      throw new UpgradeError("E_RESTORE", `the restored database differs from the restore point${differing.length ? ` in ${differing.join(", ")}` : " in its schema"}`, {
        hint: `restore ${seal.restorePoint.path} by hand before starting the service`,
        details: { differing },
      });
    }
    return json({ restored: seal.restorePoint.path, sha256: seal.restorePoint.sha256, fingerprint: now.hash });
  },
};

/** Puts every configuration file back byte for byte (or removes one that did not exist). */
export const restoreFiles: StepDefinition = {
  skip: (ctx) => (ctx.config.files?.length ? undefined : "no files"),
  async run(ctx) {
    const { files } = outputOf<SealOutput>(ctx, "seal");
    for (const copy of files) await restoreFile(copy);
    return json({ restored: files.map((f) => f.path) });
  },
};

/**
 * The proof of the restored data: the journal holds restoreDatabase's proof that the database
 * equalled the restore point (taken before the service started and wrote to it), a database left
 * without a service still equals it now, every file's sha256 equals its backup's, and the
 * installed version is the previous one.
 */
export async function proveRestore(ctx: StepContext): Promise<{ fingerprint: string; files: number; version: string | null }> {
  const seal = outputOf<SealOutput>(ctx, "seal");
  const proof = ctx.run.outputs.restoreDatabase as { fingerprint?: unknown } | undefined;
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
  for (const f of seal.files) {
    if ((await sha256OrNull(f.path)) !== f.sha256) {
      throw new UpgradeError("E_VERIFY", `${f.path} differs from its backup`, { hint: f.backup ? `copy ${f.backup} over it by hand` : `remove ${f.path}` });
    }
  }
  const version = await readVersion(ctx);
  if (ctx.run.fromVersion && version !== null && version !== ctx.run.fromVersion) {
    throw new UpgradeError("E_VERIFY", `the installed version is ${version}, not ${ctx.run.fromVersion}`, { hint: "reinstall the previous version by hand" });
  }
  return { fingerprint: seal.fingerprint.hash, files: seal.files.length, version };
}

/**
 * Proves the rollback: the restored data (`proveRestore`), then that exactly one version runs,
 * the previous one, or none if none ran before the run (`checkOneVersionRuns`).
 */
export const verifyRestore: StepDefinition = {
  async run(ctx) {
    const proof = await proveRestore(ctx);
    return json({ ...proof, running: await checkOneVersionRuns(ctx) });
  },
};
