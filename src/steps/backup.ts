import { dirname } from "node:path";
import type { BackupArtifact, ChangeMark, DatabaseAdapter, Fingerprint, SkippedMark } from "../adapters/types.js";
import { ensurePrivateDir } from "../fs/durable.js";
import { backupFile, type FileCopy } from "../fs/files.js";
import { settledStamp } from "../fs/stamp.js";
import type { BackupOutput, HotBackup } from "./outputs.js";
import { isMark } from "./seal.js";
import type { BuiltInStep, StepContext } from "./types.js";

/** Copies the configuration files into the run's backup folder. */
export async function backupFiles(ctx: StepContext): Promise<FileCopy[]> {
  const copies: FileCopy[] = [];
  for (const [i, file] of (ctx.config.files ?? []).entries()) copies.push(await backupFile(file, ctx.backupDir, i));
  return copies;
}

/**
 * The hot backup's fingerprint: the backup's own when the dialect can fingerprint backups;
 * otherwise, under a change mark, the live database's (proven equal to the backup when the mark
 * is still unchanged afterwards); null when neither.
 */
async function hotFingerprint(db: DatabaseAdapter, taken: BackupArtifact, marked: boolean): Promise<Fingerprint | null> {
  if (db.capabilities.backupFingerprints) return db.fingerprintBackup(taken);
  return marked ? db.fingerprint() : null;
}

/**
 * The hot backup, while the service still runs: the database through its adapter (0600 files in
 * a 0700 folder, sha256 of each) and the configuration files (their real files, their links
 * recorded). The backups folder (`<stateDir>/backups`) and the run's folder inside it are the
 * tool's own: created 0700, refused (E_BACKUP) when open to other users. Re-running overwrites.
 * An adapter that cannot take one now (a PostgreSQL template copy with sessions connected and no
 * suitable pg_dump) says why: the output and the log say so, and seal takes the restore point.
 *
 * Around the database's backup, the adapter's change mark: taken before, checked after the backup
 * and its fingerprint. Unchanged, the backup is the database's state at the mark, and the seal
 * proves the stopped database equal to it by `sinceMark` alone. The backup file's stamp (taken
 * after its hash) lets the seal prove the file intact without reading it.
 */
export const backup: BuiltInStep<"backup"> = {
  async run(ctx) {
    await ensurePrivateDir(dirname(ctx.backupDir));
    await ensurePrivateDir(ctx.backupDir);
    const db = await ctx.database();
    const copyOptions = { onProgress: ctx.progress, signal: ctx.signal };
    const mark = await db.changeMark();
    const taken = await db.hotBackup(ctx.backupDir, "database-hot", copyOptions);
    if ("skipped" in taken) {
      ctx.log(taken.skipped);
      await db.forgetMarks?.(); // no mark is kept with no hot backup
      const output: BackupOutput = { database: null, databaseSkipped: taken.skipped, files: await backupFiles(ctx) };
      return output;
    }
    const marked = isMark(mark);
    const fingerprint = await hotFingerprint(db, taken, marked);
    const stamp = await settledStamp(taken.path);
    const database: HotBackup = { ...taken, fingerprint, ...(stamp ? { stamp } : {}), ...(await keptMark(db, mark)) };
    if (database.noMark) {
      ctx.log(`no change mark with the hot backup: ${database.noMark}; the seal will check the stopped database`);
      await db.forgetMarks?.();
    }
    const output: BackupOutput = { database, files: await backupFiles(ctx) };
    return output;
  },
};

/**
 * The mark, when the database is proven unchanged since it (renewed when the adapter can: the
 * seal then judges only what came after the backup); otherwise why not.
 */
async function keptMark(db: DatabaseAdapter, mark: ChangeMark | SkippedMark): Promise<{ mark: ChangeMark } | { noMark: string }> {
  if (!isMark(mark)) return { noMark: mark.skipped };
  const check = await db.sinceMark(mark);
  return check.unchanged ? { mark: check.renewed ?? mark } : { noMark: `the database was written during the backup (${check.why})` };
}
