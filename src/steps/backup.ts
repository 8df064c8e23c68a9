import { dirname } from "node:path";
import { UpgradeError } from "../errors.js";
import { ensurePrivateDir } from "../fs/durable.js";
import { backupFile, fileDrift, sha256OrNull, type FileCopy } from "../fs/files.js";
import { outputOf } from "./output-of.js";
import type { BackupOutput, SealOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

async function backupFiles(ctx: StepContext): Promise<FileCopy[]> {
  const copies: FileCopy[] = [];
  for (const [i, file] of (ctx.config.files ?? []).entries()) copies.push(await backupFile(file, ctx.backupDir, i));
  return copies;
}

/**
 * The hot backup, while the service still runs: the database through its adapter (0600 files in
 * a 0700 folder, sha256 of each) and the configuration files (their real files, their links
 * recorded). The backups folder (`<stateDir>/backups`) and the run's folder inside it are the
 * tool's own: created 0700, refused (E_BACKUP) when open to other users. Re-running overwrites.
 * An adapter that cannot take one now (a PostgreSQL template copy with sessions connected and no
 * suitable pg_dump) says why: the output and the log say so, and seal takes the restore point.
 */
export const backup: BuiltInStep<"backup"> = {
  async run(ctx) {
    await ensurePrivateDir(dirname(ctx.backupDir));
    await ensurePrivateDir(ctx.backupDir);
    const db = await ctx.database();
    const copyOptions = { onProgress: ctx.progress, signal: ctx.signal };
    const taken = await db.hotBackup(ctx.backupDir, "database-hot", copyOptions);
    let output: BackupOutput;
    if ("skipped" in taken) {
      ctx.log(taken.skipped);
      output = { database: null, databaseSkipped: taken.skipped, files: await backupFiles(ctx) };
    } else {
      const fingerprint = db.capabilities.backupFingerprints ? await db.fingerprintBackup(taken) : null;
      output = { database: { ...taken, fingerprint }, files: await backupFiles(ctx) };
    }
    return output;
  },
};

/**
 * After the stop, makes the restore point exact (invariant 5): the stopped database is
 * fingerprinted; if the hot backup equals it, the hot backup is the restore point, otherwise a
 * new backup is taken now. Files that changed since the hot backup (content, mode, owner, links)
 * are copied again.
 */
export const seal: BuiltInStep<"seal"> = {
  async run(ctx) {
    const hot = outputOf(ctx, "backup");
    const db = await ctx.database();
    await db.quiesce();
    const live = await db.fingerprint();
    const hotIntact = hot.database !== null && (await sha256OrNull(hot.database.path)) === hot.database.sha256;
    let restorePoint = hot.database;
    const reused = hotIntact && hot.database?.fingerprint?.hash === live.hash;
    if (!reused || !restorePoint) {
      ctx.log(
        hot.database
          ? "the database changed after the hot backup: taking the restore point now"
          : "no hot backup of the database: taking the restore point now",
      );
      const artifact = await db.backup(ctx.backupDir, "database", { onProgress: ctx.progress, signal: ctx.signal });
      if (db.capabilities.backupFingerprints) {
        const copied = await db.fingerprintBackup(artifact);
        if (copied.hash !== live.hash) {
          throw new UpgradeError("E_BACKUP", "the restore point does not match the stopped database", {
            hint: "something still writes to the database after the stop: check the stop command",
          });
        }
      }
      restorePoint = { ...artifact, fingerprint: live };
    }
    const files: FileCopy[] = [];
    for (const [i, copy] of hot.files.entries()) {
      const unchanged = (await fileDrift(copy)) === null;
      const backupIntact = copy.backup ? (await sha256OrNull(copy.backup)) === copy.sha256 : true;
      files.push(unchanged && backupIntact ? copy : await backupFile(copy.path, ctx.backupDir, i));
    }
    const { fingerprint: _ignored, ...point } = restorePoint;
    const output: SealOutput = { restorePoint: point, fingerprint: live, reusedHotBackup: reused, files };
    return output;
  },
};
