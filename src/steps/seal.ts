import type { BackupArtifact, ChangeMark, DatabaseAdapter, Fingerprint, SkippedMark } from "../adapters/types.js";
import { UpgradeError } from "../errors.js";
import { backupFile, fileDrift, sha256OrNull, type FileCopy } from "../fs/files.js";
import { sameStamp, stampOf } from "../fs/stamp.js";
import { outputOf } from "./output-of.js";
import type { HotBackup, SealOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

/** An artifact this small is re-hashed as well as stamped: a manifest naming a copy kept elsewhere (a PostgreSQL template database). */
const REHASHED_BYTES = 1 << 20;

/** The restore point and its proof. */
type Sealed = Pick<SealOutput, "restorePoint" | "fingerprint" | "reusedHotBackup" | "proof">;

/** The artifact's own fields, without what the backup step keeps beside them. */
function artifactOf(hot: HotBackup): BackupArtifact {
  return { path: hot.path, bytes: hot.bytes, sha256: hot.sha256, format: hot.format, createdAt: hot.createdAt };
}

/** The hot backup's file is what was hashed: by its stamp (and its sha256 when small, or when there is no stamp). */
async function hotIntact(hot: HotBackup): Promise<boolean> {
  if (hot.stamp && !sameStamp(stampOf(hot.path), hot.stamp)) return false;
  if (hot.stamp && hot.bytes > REHASHED_BYTES) return true;
  return (await sha256OrNull(hot.path)) === hot.sha256;
}

/**
 * Before the quiesce: the hot backup is the restore point when the database is proven unchanged
 * since the mark taken with it (O(1), nothing read); otherwise why not, and whether the database
 * was seen written (then comparing fingerprints is pointless).
 */
async function proveByMark(db: DatabaseAdapter, hot: HotBackup | null): Promise<{ mark: ChangeMark } | { why: string; written: boolean }> {
  if (!hot) return { why: "no hot backup of the database", written: false };
  if (!hot.mark) return { why: `no change mark with the hot backup (${hot.noMark ?? "none taken"})`, written: false };
  if (!hot.fingerprint) return { why: "the hot backup has no fingerprint", written: false };
  if (!(await hotIntact(hot))) return { why: "the hot backup's file changed after it was written", written: false };
  const check = await db.sinceMark(hot.mark);
  return check.unchanged ? { mark: hot.mark } : { why: `the database was written after the hot backup (${check.why})`, written: true };
}

/**
 * After the quiesce, the slow way: a mark first, so that what follows is proven one state of the
 * stopped database; the hot backup reused when its fingerprint equals the stopped database's
 * (only when nothing was seen written since it), otherwise a copy taken now and fingerprinted.
 */
async function sealStopped(
  ctx: StepContext,
  db: DatabaseAdapter,
  hot: HotBackup | null,
  why: { why: string; written: boolean },
): Promise<Sealed> {
  const mark = await db.changeMark();
  let live: Fingerprint | undefined;
  if (hot?.fingerprint && !why.written && (await hotIntact(hot))) {
    live = await db.fingerprint();
    if (live.hash === hot.fingerprint.hash) {
      await provenStill(ctx, db, mark, live);
      ctx.log(`${why.why}: the stopped database's fingerprint equals the hot backup's, which is the restore point`);
      return { restorePoint: artifactOf(hot), fingerprint: live, reusedHotBackup: true, proof: "fingerprint" };
    }
  }
  ctx.log(
    `${hot && !why.written && hot.fingerprint ? "the database changed after the hot backup" : why.why}: taking the restore point now`,
  );
  const artifact = await db.backup(ctx.backupDir, "database", { onProgress: ctx.progress, signal: ctx.signal });
  const fingerprint = db.capabilities.backupFingerprints ? await db.fingerprintBackup(artifact) : (live ?? (await db.fingerprint()));
  if (!isMark(mark) && db.capabilities.backupFingerprints) {
    // No mark to prove the copy is of the stopped database: compare it with the database.
    live ??= await db.fingerprint();
    if (fingerprint.hash !== live.hash) throw stillWritten("the restore point does not match the stopped database");
  }
  await provenStill(ctx, db, mark, fingerprint);
  return { restorePoint: artifact, fingerprint, reusedHotBackup: false, proof: "copy" };
}

/**
 * Nothing wrote since `mark` (taken after the stop); a no-op when the dialect could not take one.
 * A mark that moved is not yet a write to this database: some marks span the whole server
 * (InnoDB's log sequence number, PostgreSQL's WAL position without pg_walinspect) and move with
 * any write to another database, a journal on the same server among them. Then the fingerprint
 * decides: the database now must equal the restore point's `fingerprint`.
 */
async function provenStill(ctx: StepContext, db: DatabaseAdapter, mark: ChangeMark | SkippedMark, fingerprint: Fingerprint): Promise<void> {
  if (!isMark(mark)) return;
  const check = await db.sinceMark(mark);
  if (check.unchanged) return;
  const now = await db.fingerprint();
  if (now.hash !== fingerprint.hash) {
    throw stillWritten(`the database was written after the stop while the restore point was taken (${check.why})`);
  }
  ctx.log(`the change mark moved (${check.why}), but the stopped database's fingerprint still equals the restore point's`);
}

/** A mark, not the reason there is none. */
export function isMark(mark: ChangeMark | SkippedMark): mark is ChangeMark {
  return typeof (mark as { how?: unknown }).how === "string";
}

function stillWritten(message: string): UpgradeError {
  return new UpgradeError("E_BACKUP", message, { hint: "something still writes to the database after the stop: check the stop command" });
}

/**
 * After the stop, makes the restore point exact (invariant 5). First, before anything touches
 * the database: when the change mark kept with the hot backup is proven unchanged (the dialect's
 * `sinceMark`, O(1) on SQLite) and the backup file is intact by its stamp, the hot backup is the
 * restore point and its fingerprint the stopped database's; nothing is read. Otherwise the
 * database is quiesced and proven the slow way (`sealStopped`). Files that changed since the hot
 * backup (content, mode, owner, links) are copied again. Sealed, the adapter forgets its marks.
 */
export const seal: BuiltInStep<"seal"> = {
  async run(ctx) {
    const hot = outputOf(ctx, "backup");
    const db = await ctx.database();
    const byMark = await proveByMark(db, hot.database);
    let sealed: Sealed;
    if ("mark" in byMark && hot.database?.fingerprint) {
      const how = byMark.mark.how;
      ctx.log(`the database is unchanged since the hot backup, proven by ${how} (nothing read): the hot backup is the restore point`);
      sealed = { restorePoint: artifactOf(hot.database), fingerprint: hot.database.fingerprint, reusedHotBackup: true, proof: how };
    } else {
      await db.quiesce();
      sealed = await sealStopped(
        ctx,
        db,
        hot.database,
        "why" in byMark ? byMark : { why: "the hot backup has no fingerprint", written: false },
      );
    }
    await db.forgetMarks?.(); // sealed: no mark is checked again (PostgreSQL: the WAL a migration writes is not kept)
    const files: FileCopy[] = [];
    for (const [i, copy] of hot.files.entries()) {
      const unchanged = (await fileDrift(copy)) === null;
      const backupIntact = copy.backup ? (await sha256OrNull(copy.backup)) === copy.sha256 : true;
      files.push(unchanged && backupIntact ? copy : await backupFile(copy.path, ctx.backupDir, i));
    }
    const output: SealOutput = { ...sealed, files };
    return output;
  },
};
