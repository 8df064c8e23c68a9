/**
 * Seconds of downtime per GB of database that a restore point taken after the stop adds, with
 * the template strategy: the copy (`CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY`, 0.7 to
 * 2.7 s/GB) and the fingerprint of the copy that proves it equals the stopped database (the rest).
 * Measured with `npm run bench:pg-majors` on a 2-core machine (PostgreSQL 16, 17, 18, 567 MB, fsync
 * on): 17, 34 and 26 s/GB more than the same rollback with a hot backup.
 */
export const AFTER_STOP_SECONDS_PER_GB = 25;

const GB = 1024 ** 3;

/** What taking the restore point after the stop costs a database of `bytes`. */
export function afterStopCost(bytes: number): string {
  const gb = bytes / GB;
  const seconds = Math.max(0.1, gb * AFTER_STOP_SECONDS_PER_GB);
  return (
    `restore point taken after the stop: about ${AFTER_STOP_SECONDS_PER_GB} s of downtime per GB (measured: the copy and the fingerprint that proves it), ` +
    `about ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s for this database (${gb < 0.1 ? `${Math.max(1, Math.round(bytes / 1024 ** 2))} MB` : `${gb.toFixed(1)} GB`})`
  );
}

/**
 * The plan's line about the hot backup of the template strategy: a template copy when no other
 * session is connected at that moment; otherwise a pg_dump when one can serve the server, or none.
 */
export function templateHotBackupNote(dumpAvailable: boolean, othersNow: number, bytes: number): string {
  const now = `now ${othersNow} other session${othersNow === 1 ? " is" : "s are"} connected`;
  if (dumpAvailable) return `hot backup: a template copy when no other session is connected (${now}), a pg_dump otherwise`;
  return `hot backup: a template copy when no other session is connected (${now}); otherwise none (no suitable pg_dump): ${afterStopCost(bytes)}`;
}
