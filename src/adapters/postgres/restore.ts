import { describeTarget } from "../../url.js";
import { feedFileToTool, verifyArtifact } from "../external/dump-file.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import type { PgCatalog } from "./catalog.js";
import { pgError, pgToolEnv, type PgSql, type PostgresTarget } from "./connection.js";
import { createDatabaseLike, derivedName, dropDatabase, readDatabaseProps, swapDatabase } from "./databases.js";
import { classifyPgToolFailure, type PgTool } from "./tools.js";

/** A libpq conninfo naming only the database (host, user and password come from the environment). */
export function dbnameConninfo(database: string): string {
  return `dbname='${database.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * Runs `pg_restore --single-transaction --exit-on-error` from a backup file into the (empty)
 * database `into`, streaming the file through stdin and hashing it again on the way.
 */
export async function pgRestoreInto(
  target: PostgresTarget,
  pgRestore: PgTool,
  artifact: BackupArtifact,
  into: string,
  options: CopyOptions = {},
): Promise<void> {
  const run = {
    argv: [pgRestore.path, "--no-password", "--exit-on-error", "--single-transaction", `--dbname=${dbnameConninfo(into)}`] as [
      string,
      ...string[],
    ],
    env: pgToolEnv(target, into),
    secrets: [target.password ?? ""],
    classify: classifyPgToolFailure("pg_restore", describeTarget(target), "E_RESTORE"),
  };
  await feedFileToTool(run, artifact, options);
}

/**
 * Restores a `pg_dump --format=custom` backup over the target database, atomically:
 *
 * 1. the file's sha256 is verified (a mismatch changes nothing);
 * 2. a scratch database `<db>__um_restore` is created from `template0` with the target's owner,
 *    encoding, locale (provider, ICU or builtin locale and rules: see `localeClauses`), connection
 *    limit, privileges, settings and comment, and pg_restore loads
 *    the backup into it in one transaction (the file hashed again while streaming);
 * 3. the target is closed to new connections, its sessions ended, and the two databases swap
 *    names in one transaction; the previous database is dropped.
 *
 * Chosen over `pg_restore --clean --if-exists --single-transaction` into the live database
 * because `--clean` drops only the objects the backup contains: a table, index or function
 * that a failed migration created survives it, and the restored database is not the restore
 * point. A failure before the swap leaves the target untouched. Idempotent: re-running after a
 * crash at any point converges (left-over scratch and old databases are dropped first).
 * Needs CREATEDB (or ownership of the target) and no other client connected (the service stopped).
 *
 * @throws UpgradeError E_RESTORE (backup corrupt or pg_restore failed), E_BUSY, E_AUTH, E_CONNECT.
 */
export async function restorePostgres(
  admin: PgSql,
  catalog: PgCatalog,
  target: PostgresTarget,
  pgRestore: PgTool,
  artifact: BackupArtifact,
  options: CopyOptions = {},
): Promise<void> {
  await verifyArtifact(artifact);
  const scratch = derivedName(target.database, "restore");
  try {
    const props = await readDatabaseProps(admin, target.database, catalog);
    await dropDatabase(admin, scratch);
    await createDatabaseLike(admin, catalog, scratch, props);
  } catch (err) {
    throw pgError(err, target, "preparing the restore", "E_RESTORE");
  }
  try {
    await pgRestoreInto(target, pgRestore, artifact, scratch, options);
  } catch (err) {
    await dropDatabase(admin, scratch).catch(() => undefined);
    throw err;
  }
  try {
    await swapDatabase(admin, target.database, scratch);
  } catch (err) {
    throw pgError(err, target, "swapping the restored database in", "E_RESTORE");
  }
}
