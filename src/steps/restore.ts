import { UpgradeError } from "../errors.js";
import { restoreFile, sha256OrNull } from "../fs/files.js";
import { readVersion } from "./commands.js";
import { json, outputOf, type SealOutput } from "./outputs.js";
import type { StepDefinition } from "./types.js";

/** Puts the restore point back (sha256 checked first; atomic where the dialect allows). */
export const restoreDatabase: StepDefinition = {
  async run(ctx) {
    const { restorePoint } = outputOf<SealOutput>(ctx, "seal");
    const db = await ctx.database();
    await db.restore(restorePoint, { onProgress: ctx.progress, signal: ctx.signal });
    return json({ restored: restorePoint.path, sha256: restorePoint.sha256 });
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
 * Proves the rollback: the database's fingerprint equals the restore point's, every file's
 * sha256 equals its backup's, and the installed version is the previous one.
 */
export const verifyRestore: StepDefinition = {
  async run(ctx) {
    const seal = outputOf<SealOutput>(ctx, "seal");
    const db = await ctx.database();
    const now = await db.fingerprint();
    if (now.hash !== seal.fingerprint.hash) {
      const tables = new Set([...Object.keys(now.tables), ...Object.keys(seal.fingerprint.tables)]);
      const differing = [...tables].filter((t) => now.tables[t]?.hash !== seal.fingerprint.tables[t]?.hash);
      throw new UpgradeError("E_VERIFY", `the restored database differs from the restore point${differing.length ? ` in ${differing.join(", ")}` : " in its schema"}`, {
        hint: `restore ${seal.restorePoint.path} by hand`,
        details: { differing },
      });
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
    return json({ fingerprint: now.hash, files: seal.files.length, version });
  },
};
