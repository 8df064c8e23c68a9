import type { PoolConnection } from "mysql2/promise";
import { UpgradeError } from "../../errors.js";
import type { OnProgress } from "../../progress.js";
import { describeTarget } from "../../url.js";
import { feedFileToTool, verifyArtifact } from "../external/dump-file.js";
import type { BackupArtifact, CopyOptions, Fingerprint, RestoreOptions } from "../types.js";
import { readDumpHeader, type DumpHeader } from "./backup.js";
import { mysqlError, mysqlToolArgs, mysqlToolEnv, quoteIdent, type MysqlPool, type MysqlTarget } from "./connection.js";
import { databaseExists, derivedName, emptyDatabase, listObjects, onlyTables, swapTables } from "./databases.js";
import { triggersNamingDatabase } from "./dump-check.js";
import { classifyMysqlToolFailure, type MysqlTool } from "./tools.js";

/** Options of `restoreMysql`. */
export interface MysqlRestoreOptions extends RestoreOptions {
  /**
   * How the proven copy replaces the live database: `auto` moves its tables in with one atomic
   * `RENAME TABLE` when it holds only tables, else loads the dump into the live database again;
   * `reload` always loads again (for measurements). Default `auto`.
   */
  replace?: "auto" | "reload";
}

/** Fingerprints the database of that name (on a connection whose current database it is). */
export type FingerprintOf = (database: string) => Promise<Fingerprint>;

/** Loads a dump file into `database` with the command-line client, hashing the file again on the way. */
export async function loadDump(
  target: MysqlTarget,
  client: MysqlTool,
  artifact: BackupArtifact,
  database: string,
  options: CopyOptions = {},
): Promise<void> {
  const run = {
    argv: [
      client.path,
      ...mysqlToolArgs(target, client.flavour),
      "--binary-mode",
      "--default-character-set=utf8mb4",
      `--database=${database}`,
    ] as [string, ...string[]],
    env: mysqlToolEnv(target),
    secrets: [target.password ?? ""],
    classify: classifyMysqlToolFailure(client.path, describeTarget(target), "E_RESTORE"),
  };
  await feedFileToTool(run, artifact, options);
}

/** Progress of one phase of the restore, named in `message`. */
function phase(options: CopyOptions, message: string): CopyOptions {
  const onProgress: OnProgress | undefined = options.onProgress && ((p) => options.onProgress?.({ ...p, message }));
  return { ...(onProgress ? { onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}) };
}

const PRIVILEGE_CODES = new Set(["ER_DBACCESS_DENIED_ERROR", "ER_SPECIFIC_ACCESS_DENIED_ERROR", "ER_TABLEACCESS_DENIED_ERROR"]);

/** A failed statement of the restore as E_RESTORE (E_BUSY when another session holds the tables). */
function restoreError(err: unknown, target: MysqlTarget, what: string, scratch: string, trash: string): UpgradeError {
  const code = (err as { code?: string }).code ?? "";
  const where = describeTarget(target);
  if (code === "ER_LOCK_WAIT_TIMEOUT") {
    return new UpgradeError("E_BUSY", `${what} on ${where}: another session holds the tables of ${target.database}`, {
      hint: "stop every client of the database (the service, workers, cron jobs), then restore again",
      details: { target: where, code },
      cause: err,
    });
  }
  if (PRIVILEGE_CODES.has(code)) {
    return new UpgradeError(
      "E_RESTORE",
      `${what} on ${where}: the user may not create or change the restore's databases ${scratch} and ${trash}`,
      {
        hint: `grant the user all privileges on both (GRANT ALL ON ${quoteIdent(scratch)}.* TO ...; GRANT ALL ON ${quoteIdent(trash)}.* TO ...), then restore again`,
        details: { target: where, code, databases: [scratch, trash] },
        cause: err,
      },
    );
  }
  return mysqlError(err, target, what, "E_RESTORE");
}

/**
 * Restores a dump written by `backupMysql` over the target database, proving it before the live
 * database is touched:
 *
 * 1. the file's sha256 is verified (a mismatch changes nothing), and a dump whose triggers name
 *    the database explicitly is refused (they would be created in the live database);
 * 2. left-overs of a restore that crashed (`<db>__um_restore`, `<db>__um_old`) are dropped, and the
 *    dump is loaded into a new scratch database `<db>__um_restore` with the character set and
 *    collation it records (the file hashed again while streaming);
 * 3. with `expected`, the scratch database's fingerprint must equal it;
 * 4. only then is the live database replaced: when the copy holds only tables (no triggers, views,
 *    routines or events, which MySQL ties to their database), the live database's other objects
 *    are dropped and one atomic `RENAME TABLE` moves its tables out to `<db>__um_old` and the
 *    copy's in; otherwise the live database is emptied and the proven dump loaded into it again.
 *
 * A dump that fails to load or proves different leaves the live database untouched (E_RESTORE,
 * scratch dropped). The live database is never dropped, so its grants, comment and existence
 * survive; its character set and collation are set to those of the restore point. A crash at any
 * point is repaired by restoring again. Needs the service stopped, and privileges on the two
 * derived databases as well as on the target.
 *
 * @throws UpgradeError E_RESTORE (corrupt backup, load failed, fingerprint differs, no privilege
 * on the derived databases), E_BUSY, E_AUTH, E_CONNECT.
 */
export async function restoreMysql(
  admin: MysqlPool,
  target: MysqlTarget,
  client: MysqlTool,
  artifact: BackupArtifact,
  fingerprintOf: FingerprintOf,
  options: MysqlRestoreOptions = {},
): Promise<void> {
  await verifyArtifact(artifact);
  const header = await readDumpHeader(artifact.path);
  const live = target.database;
  const qualified = await triggersNamingDatabase(artifact.path, live);
  if (qualified.length > 0) {
    throw new UpgradeError(
      "E_RESTORE",
      `${artifact.path} creates triggers that name ${live} explicitly (${qualified.join("; ")}): loaded into a scratch database to be proven, they would change ${live} itself; ${live} was not changed`,
      {
        hint: `restore it by hand into ${live} (mariadb --database=${live} < ${artifact.path}, after emptying the database), and create those triggers without the database name before the next upgrade`,
        details: { path: artifact.path, triggers: qualified },
      },
    );
  }
  const scratch = derivedName(live, "restore");
  const trash = derivedName(live, "old");
  const fail = (what: string) => (err: unknown) => {
    throw restoreError(err, target, what, scratch, trash);
  };
  const conn = await admin.getConnection().catch(fail("connecting for the restore"));
  const run = (sql: string): Promise<unknown> => conn.query(sql);
  const charset = `CHARACTER SET ${header.charset} COLLATE ${header.collation}`;
  const dropScratch = (): Promise<unknown> => run(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)}`).catch(() => undefined);
  try {
    // Waiting a day (the default) for a client that still holds a table helps nobody.
    await run("SET SESSION lock_wait_timeout = 60").catch(fail("preparing the restore"));
    await run(`DROP DATABASE IF EXISTS ${quoteIdent(trash)}`).catch(fail("dropping the left-overs of an earlier restore"));
    await run(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)}`).catch(fail("dropping the left-overs of an earlier restore"));
    await run(`CREATE DATABASE ${quoteIdent(scratch)} ${charset}`).catch(fail("creating the scratch database"));
    try {
      await loadDump(target, client, artifact, scratch, phase(options, `loading into ${scratch}`));
      if (options.expected) await prove(scratch, options.expected, fingerprintOf, artifact, target);
    } catch (err) {
      await dropScratch();
      throw err;
    }
    await replaceLive(conn, { target, client, artifact, header, scratch, trash, options }).catch(
      fail(`replacing ${live} with the proven copy`),
    );
  } finally {
    conn.destroy(); // it carries session settings of its own
  }
}

async function prove(
  scratch: string,
  expected: Fingerprint,
  fingerprintOf: FingerprintOf,
  artifact: BackupArtifact,
  target: MysqlTarget,
): Promise<void> {
  const got = await fingerprintOf(scratch).catch((err: unknown) => {
    throw mysqlError(err, target, `fingerprinting the restored copy ${scratch}`, "E_RESTORE");
  });
  if (got.hash === expected.hash) return;
  const tables = new Set([...Object.keys(got.tables), ...Object.keys(expected.tables)]);
  const differing = [...tables].filter(
    (t) => got.tables[t]?.hash !== expected.tables[t]?.hash || got.tables[t]?.rows !== expected.tables[t]?.rows,
  );
  throw new UpgradeError(
    "E_RESTORE",
    `${artifact.path} loads to a database that differs from the restore point${differing.length ? ` in ${differing.join(", ")}` : " in its schema"}; ${target.database} was not changed`,
    {
      hint: "do not use this backup; restore from another one",
      details: { path: artifact.path, differing },
    },
  );
}

interface Replace {
  target: MysqlTarget;
  client: MysqlTool;
  artifact: BackupArtifact;
  header: DumpHeader;
  scratch: string;
  trash: string;
  options: MysqlRestoreOptions;
}

async function replaceLive(conn: PoolConnection, r: Replace): Promise<void> {
  const live = r.target.database;
  const q = quoteIdent;
  const charset = `CHARACTER SET ${r.header.charset} COLLATE ${r.header.collation}`;
  if (!(await databaseExists(conn, live))) await conn.query(`CREATE DATABASE IF NOT EXISTS ${q(live)} ${charset}`);
  const copy = await listObjects(conn, r.scratch);
  const old = await listObjects(conn, live);
  if (r.options.replace !== "reload" && onlyTables(copy)) {
    // The restore point has none of these. Triggers cannot move with their tables: they go first.
    const none = { tables: [], views: [], triggers: [], routines: [], events: [] };
    await conn.query(`CREATE DATABASE ${q(r.trash)}`);
    await emptyDatabase(conn, live, { ...none, triggers: old.triggers }, true);
    await swapTables(conn, live, old.tables, r.scratch, copy.tables, r.trash);
    await emptyDatabase(conn, live, { ...old, tables: [], triggers: [] }, true);
    await conn.query(`ALTER DATABASE ${q(live)} ${charset}`);
    // The restore is done; a drop that fails leaves garbage that the next restore removes.
    await conn.query(`DROP DATABASE IF EXISTS ${q(r.trash)}`).catch(() => undefined);
    await conn.query(`DROP DATABASE IF EXISTS ${q(r.scratch)}`).catch(() => undefined);
    return;
  }
  await conn.query(`DROP DATABASE IF EXISTS ${q(r.scratch)}`); // its space is needed for the second load
  await emptyDatabase(conn, live, old);
  await conn.query(`ALTER DATABASE ${q(live)} ${charset}`);
  await loadDump(r.target, r.client, r.artifact, live, phase(r.options, `loading into ${live}`));
}
