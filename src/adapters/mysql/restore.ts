import { describeTarget } from "../../url.js";
import { feedFileToTool, verifyArtifact } from "../external/dump-file.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import { readDumpHeader } from "./backup.js";
import { mysqlError, mysqlToolArgs, mysqlToolEnv, quoteIdent, type MysqlPool, type MysqlTarget } from "./connection.js";
import { classifyMysqlToolFailure, type MysqlTool } from "./tools.js";

/** Loads a dump file into `database` with the command-line client, hashing the file again on the way. */
export async function loadDump(target: MysqlTarget, client: MysqlTool, artifact: BackupArtifact, database: string, options: CopyOptions = {}): Promise<void> {
  const run = {
    argv: [client.path, ...mysqlToolArgs(target), "--binary-mode", `--database=${database}`] as [string, ...string[]],
    env: mysqlToolEnv(target),
    secrets: [target.password ?? ""],
    classify: classifyMysqlToolFailure(client.path, describeTarget(target), "E_RESTORE"),
  };
  await feedFileToTool(run, artifact, options);
}

/**
 * Restores a dump written by `backupMysql` over the target database: the file's sha256 is
 * verified first (a mismatch changes nothing), then the database is dropped and created again
 * with the character set and collation recorded in the dump, and the dump is loaded by the
 * `mariadb` / `mysql` client (the file hashed again while streaming). MySQL has no transactional
 * DDL and no database rename, so this is not atomic: a failure or crash half-way leaves a partly
 * loaded database, and restoring again converges (every step is re-run from the drop). Grants
 * on the database survive (MySQL keeps them by name). Needs the service stopped.
 *
 * @throws UpgradeError E_RESTORE (corrupt backup, or the client failed), E_AUTH, E_CONNECT.
 */
export async function restoreMysql(admin: MysqlPool, target: MysqlTarget, client: MysqlTool, artifact: BackupArtifact, options: CopyOptions = {}): Promise<void> {
  await verifyArtifact(artifact);
  const header = await readDumpHeader(artifact.path);
  const db = quoteIdent(target.database);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    await admin.query(`CREATE DATABASE ${db} CHARACTER SET ${header.charset} COLLATE ${header.collation}`);
  } catch (err) {
    throw mysqlError(err, target, "re-creating the database", "E_RESTORE");
  }
  await loadDump(target, client, artifact, target.database, options);
}
