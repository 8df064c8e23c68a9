import { UpgradeError } from "../../errors.js";
import { describeTarget } from "../../url.js";
import { connectionUrl } from "../connection-url.js";
import type { BackupArtifact, DatabaseAdapter, ScratchCopy } from "../types.js";
import { MYSQL_DUMP_FORMAT, readDumpHeader } from "./backup.js";
import { mysqlError, quoteIdent, type MysqlPool, type MysqlTarget } from "./connection.js";
import { derivedName } from "./databases.js";
import { triggersNamingDatabase } from "./dump-check.js";
import { loadDump } from "./restore.js";
import type { MysqlTool } from "./tools.js";

/** What a scratch copy needs of the adapter. */
export interface MysqlScratchDeps {
  target: MysqlTarget;
  /** A pool on the server without a current database. */
  admin(): Promise<MysqlPool>;
  client(): Promise<MysqlTool>;
  /** The copy as an adapter of its own. */
  open(target: MysqlTarget): DatabaseAdapter;
}

/** The scratch database's name: `<db>__um_<name>`, on the target's server. */
export function mysqlScratchName(target: MysqlTarget, name: string): string {
  return derivedName(target.database, name);
}

/**
 * A scratch database loaded from a dump, the way the restore loads its own: created with the
 * character set and collation the dump records, then loaded by the mariadb / mysql client. A dump
 * whose triggers name the live database is refused (loading it would create them there). A copy
 * of the same name left by an earlier attempt is dropped first; a copy that fails half-way is dropped.
 */
export async function mysqlScratch(deps: MysqlScratchDeps, artifact: BackupArtifact, name: string): Promise<ScratchCopy> {
  const { target } = deps;
  if (artifact.format !== MYSQL_DUMP_FORMAT) {
    throw new UpgradeError("E_REHEARSAL", `${artifact.path} is a ${artifact.format} backup, not a MySQL one`, {
      hint: "the rehearsal copies the hot backup this adapter wrote",
    });
  }
  const named = await triggersNamingDatabase(artifact.path, target.database);
  if (named.length > 0) {
    throw new UpgradeError(
      "E_REHEARSAL",
      `the hot backup creates triggers that name ${target.database} explicitly (${named.join("; ")}): loaded into a scratch database they would change ${target.database} itself`,
      {
        hint: 'create those triggers without the database name, or turn the rehearsal off with "rehearse": false',
        details: { triggers: named },
      },
    );
  }
  const header = await readDumpHeader(artifact.path);
  const scratch = mysqlScratchName(target, name);
  const admin = await deps.admin();
  const q = quoteIdent(scratch);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${q}`);
    await admin.query(`CREATE DATABASE ${q} CHARACTER SET ${header.charset} COLLATE ${header.collation}`);
    await loadDump(target, await deps.client(), artifact, scratch);
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS ${q}`).catch(() => undefined);
    throw mysqlError(err, target, `making the rehearsal's scratch copy ${scratch}`, "E_REHEARSAL");
  }
  const [rows] = await admin.query(
    "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [scratch],
  );
  const copy = { ...target, database: scratch };
  return {
    how: "the hot backup's dump loaded into a scratch database",
    bytes: Number((rows as { bytes: string }[])[0]?.bytes ?? 0),
    adapter: deps.open(copy),
    location: { databaseUrl: connectionUrl(copy) },
    display: describeTarget(copy),
  };
}

/** Drops the scratch database `name` when it exists. */
export async function dropMysqlScratch(admin: MysqlPool, target: MysqlTarget, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(mysqlScratchName(target, name))}`);
}
