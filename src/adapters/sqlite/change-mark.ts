/**
 * SQLite's change mark: proof in O(1), without reading a row, that nothing was written to a
 * database since a moment.
 *
 * The mark records, for the database file and for its `-wal` (present or absent): dev, ino,
 * size, mtime and ctime in ns (`FileStamp`); SQLite's file change counter (header offset 24);
 * the WAL header (32 bytes: magic, format, page size, checkpoint sequence, salts, checksums); and
 * whether every WAL frame was already in the database file (`walBackfilled`).
 *
 * Why "all equal" means "nothing written". Every write SQLite makes goes to one of the two
 * files: in WAL mode a commit appends frames to the WAL (the file grows, or after a WAL reset
 * frames are overwritten from the start under a new header: new salts, next checkpoint
 * sequence), a checkpoint writes pages into the database file; in rollback-journal mode a commit
 * writes the database file and increments its change counter. A write changes the file's mtime
 * and ctime; a file replaced (a rename over it) has another ino and a newer ctime (ctime cannot
 * be set by a user). The one gap is the kernel's coarse clock: a write in the same tick (1 to
 * 10 ms) as the recorded time leaves the times equal, so the mark is only taken once both files'
 * newest time is at least 100 ms older than a time read before the `stat` (git's racy-timestamp
 * rule, `racyWaitMs`): any later write then gets a newer time. While writes keep coming the mark
 * waits and retries, and after about a second it gives up (`skipped`; the seal then works the
 * slow way). A clock stepped backwards between mark and check defeats the rule, as it does git's.
 *
 * What the mark is the state of. WAL mode: the content is the database file overlaid with the
 * WAL's committed frames; both files were unwritten from the time read before the checkpoint
 * (below) until the `stat`, so the checkpoint's answer and the stamps describe one state.
 * Rollback mode: the `stat` happens inside a read transaction (a SHARED lock: no writer can
 * commit, and a hot journal has been rolled back), so the database file is a committed state.
 *
 * Before the stamps, a checkpoint that never waits (busy timeout 0 for it; SQLite lowers it to
 * a PASSIVE one when a writer holds the lock): TRUNCATE when it can, which empties the WAL, so
 * `walBackfilled` is then true; otherwise PASSIVE's `log == checkpointed` says the same.
 *
 * The one change of files that is not a change of content, and is accepted: the WAL gone or
 * emptied. SQLite deletes the WAL only when the last connection closes, after a complete
 * checkpoint (and empties it only in a TRUNCATE checkpoint, after a complete one). A complete
 * checkpoint writes into the database file every frame not yet in it. So: if the mark recorded
 * that every frame was in the database file (`walBackfilled`), the database file alone was the
 * content at the mark; with its stamp and change counter unchanged, it still is, WAL or no WAL.
 * If frames were not yet in it, the checkpoint that preceded the deletion changed the database
 * file (seen anyway), and a WAL removed by anything else lost committed writes: both are
 * changes. A WAL that appears (absent at the mark) is a change unless it is empty (a connection
 * opening a WAL database creates an empty one). While the orchestrator's own connection stays
 * open, the service's close is not the last one and leaves the WAL as it is.
 *
 * Anything else that differs (a checkpoint by the service writing pages the WAL already had, a
 * `chmod`) reports a change that may not be one: the seal then proves the slow way. Never the
 * other way round. `sinceMark` must run before `quiesce` (a checkpoint rewrites the files).
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import type { ChangeMark, MarkCheck, SkippedMark } from "../types.js";
import { nowNs, racyWaitMs, sameStamp, stampDifference, stampOf, type FileStamp } from "../../fs/stamp.js";
import { sleep, type SqliteDb } from "./connection.js";

/** The `how` of SQLite's marks, for the seal's log line. */
export const SQLITE_MARK_HOW = "the SQLite file and its WAL: identity, size, times, change counter and WAL header";

/** SQLite's change mark (JSON, kept in the journal with the hot backup). */
export interface SqliteMark extends ChangeMark {
  readonly how: typeof SQLITE_MARK_HOW;
  readonly db: FileStamp & { changeCounter: number };
  /** null when there was no WAL file. */
  readonly wal: (FileStamp & { header: string }) | null;
  /** Every frame of the WAL was in the database file (or there was no frame). */
  readonly walBackfilled: boolean;
}

/** How long a database that keeps being written is retried before the mark is given up. */
const GIVE_UP_MS = 1000;

function readBytes(path: string, length: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The files' state now: stamps and headers. */
function filesNow(path: string): { db: SqliteMark["db"] | null; wal: SqliteMark["wal"] } {
  const real = realpathSync(path);
  const dbStamp = stampOf(real);
  const header = readBytes(real, 100);
  const walPath = `${real}-wal`;
  const walStamp = stampOf(walPath);
  const walHeader = walStamp ? readBytes(walPath, 32) : null;
  return {
    db: dbStamp ? { ...dbStamp, changeCounter: header && header.length >= 28 ? header.readUInt32BE(24) : -1 } : null,
    wal: walStamp ? { ...walStamp, header: (walHeader ?? Buffer.alloc(0)).toString("hex") } : null,
  };
}

/**
 * A checkpoint that never waits; true when afterwards every WAL frame is in the database file.
 * TRUNCATE only when the WAL has bytes (truncating an empty WAL still sets its mtime, so the
 * files would never settle); PASSIVE otherwise, which writes nothing when there is nothing to copy.
 */
function checkpointNoWait(db: SqliteDb, path: string): boolean {
  const walBytes = statSync(`${realpathSync(path)}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  const timeout = Number(db.pragma("busy_timeout", { simple: true }));
  db.pragma("busy_timeout = 0");
  try {
    const mode = walBytes > 0 ? "TRUNCATE" : "PASSIVE";
    const [r] = db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[];
    return r !== undefined && (r.busy === 0 || (r.log >= 0 && r.log === r.checkpointed));
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

/** One attempt: the files' state and the time before it, read as one state (see the file's comment). */
function attempt(db: SqliteDb, path: string): { before: bigint; mark: SqliteMark | null } {
  const before = nowNs();
  const wal = String(db.pragma("journal_mode", { simple: true })).toLowerCase() === "wal";
  if (wal) {
    const backfilled = checkpointNoWait(db, path);
    const now = filesNow(path);
    const empty = now.wal === null || now.wal.size === "0";
    return { before, mark: now.db ? { how: SQLITE_MARK_HOW, db: now.db, wal: now.wal, walBackfilled: empty || backfilled } : null };
  }
  db.exec("BEGIN");
  try {
    db.prepare("SELECT count(*) FROM sqlite_master").get(); // takes the SHARED lock
    const now = filesNow(path);
    return {
      before,
      mark: now.db ? { how: SQLITE_MARK_HOW, db: now.db, wal: now.wal, walBackfilled: now.wal === null || now.wal.size === "0" } : null,
    };
  } finally {
    db.exec("COMMIT");
  }
}

/** Takes SQLite's change mark of the database at `path`, open on `db` (see the file's comment). */
export async function takeSqliteMark(db: SqliteDb, path: string): Promise<SqliteMark | SkippedMark> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (;;) {
    let taken: { before: bigint; mark: SqliteMark | null };
    try {
      taken = attempt(db, path);
    } catch (err) {
      return { skipped: `the database cannot be read now (${(err as Error).message})` };
    }
    if (!taken.mark) return { skipped: "the database file does not exist" };
    const wait = racyWaitMs(taken.before, [taken.mark.db, taken.mark.wal]);
    if (wait === 0) return taken.mark;
    if (Date.now() >= giveUpAt) return { skipped: "the database is being written" };
    await sleep(wait);
  }
}

function isSqliteMark(mark: ChangeMark): mark is SqliteMark {
  const m = mark as Partial<SqliteMark>;
  return (
    m.how === SQLITE_MARK_HOW && typeof m.db === "object" && m.db !== null && m.wal !== undefined && typeof m.walBackfilled === "boolean"
  );
}

/** Whether the database at `path` is proven unchanged since `mark` (see the file's comment). */
export function checkSqliteMark(path: string, mark: ChangeMark): MarkCheck {
  if (!isSqliteMark(mark)) return { unchanged: false, why: "the mark was not taken by the SQLite adapter" };
  const now = filesNow(path);
  if (!now.db) return { unchanged: false, why: "the database file is gone" };
  if (!sameStamp(now.db, mark.db)) return { unchanged: false, why: `the database file ${stampDifference(mark.db, now.db)}` };
  if (now.db.changeCounter !== mark.db.changeCounter) return { unchanged: false, why: "the database file's change counter changed" };
  const walEmptyNow = now.wal === null || now.wal.size === "0";
  if (mark.wal === null) {
    return walEmptyNow ? { unchanged: true } : { unchanged: false, why: "a WAL with frames appeared" };
  }
  if (walEmptyNow && !sameStamp(now.wal, mark.wal)) {
    return mark.walBackfilled
      ? { unchanged: true }
      : { unchanged: false, why: "the WAL was removed while it held frames not yet in the database file" };
  }
  if (!sameStamp(now.wal, mark.wal)) return { unchanged: false, why: `the WAL ${stampDifference(mark.wal, now.wal)}` };
  if (now.wal?.header !== mark.wal.header) return { unchanged: false, why: "the WAL header changed (a WAL reset)" };
  return { unchanged: true };
}
