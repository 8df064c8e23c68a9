import { removeCounted } from "../../fs/durable.js";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { MigrationDriver } from "../../migrations/types.js";
import { describeTarget } from "../../url.js";
import type { BackupArtifact, DatabaseAdapter, Fingerprint } from "../types.js";
import { MYSQL_DUMP_FORMAT, backupMysql, type DumpHeader } from "./backup.js";
import { mysqlError, openMysql, quoteIdent, type MysqlPool, type MysqlTarget } from "./connection.js";
import { fingerprintMysql } from "./fingerprint.js";
import { createMysqlMigrationDriver } from "./migration-driver.js";
import { restoreMysql, type MysqlRestoreOptions } from "./restore.js";
import { lockMysqlTarget } from "./target-lock.js";
import { checkMysqlMark, takeMysqlMark } from "./change-mark.js";
import { openMysqlSnapshot } from "./snapshot.js";
import { dropMysqlScratch, mysqlScratch } from "./scratch.js";
import { findMysqlTool, parseServerVersion, type MysqlServerVersion, type MysqlTool, type MysqlToolRole } from "./tools.js";

/** Options of `createMysqlAdapter`. */
export interface MysqlAdapterOptions {
  /** Directories searched for mariadb-dump / mysqldump and mariadb / mysql, PATH syntax; default PATH. */
  binPath?: string;
}

/** The MySQL / MariaDB adapter, with what it adds to `DatabaseAdapter`. */
export interface MysqlAdapter extends DatabaseAdapter {
  readonly dialect: "mysql";
  /** Restores through a scratch database proven equal to `options.expected` (see `restoreMysql`). */
  restore(artifact: BackupArtifact, options?: MysqlRestoreOptions): Promise<void>;
}

/**
 * A `DatabaseAdapter` for a MySQL or MariaDB database, on mysql2 (loaded on first use), with
 * backups by the real mariadb-dump / mysqldump and restores by the mariadb / mysql client
 * (checked against the server's version, run with `--no-defaults`), through a scratch database
 * proven equal to the restore point before the live one is replaced. Capabilities: no transactional DDL, so a migration
 * that fails half-way is reported statement by statement and the backup restored. Two small
 * pools are opened lazily: one on the target, one without a database (to drop and create it).
 */
export function createMysqlAdapter(target: MysqlTarget, options: MysqlAdapterOptions = {}): MysqlAdapter {
  let pool: Promise<MysqlPool> | undefined;
  let adminPool: Promise<MysqlPool> | undefined;
  let server: MysqlServerVersion | undefined;
  const tools = new Map<MysqlToolRole, Promise<MysqlTool>>();

  const verified = async (database: string | null, what: string): Promise<MysqlPool> => {
    const p = await openMysql(target, database);
    try {
      const [rows] = await p.query("SELECT VERSION() AS v");
      server = parseServerVersion(String((rows as { v: string }[])[0]?.v ?? ""));
      return p;
    } catch (err) {
      await p.end().catch(() => undefined);
      throw mysqlError(err, target, what);
    }
  };
  const lazy =
    (get: () => Promise<MysqlPool> | undefined, set: (p: Promise<MysqlPool> | undefined) => void, database: string | null, what: string) =>
    (): Promise<MysqlPool> => {
      let p = get();
      if (!p) {
        p = verified(database, what);
        p.catch(() => set(undefined));
        set(p);
      }
      return p;
    };
  const connect = lazy(
    () => pool,
    (p) => (pool = p),
    target.database,
    "connecting",
  );
  const admin = lazy(
    () => adminPool,
    (p) => (adminPool = p),
    null,
    "connecting to the server",
  );
  const end = async (p: Promise<MysqlPool> | undefined): Promise<void> => {
    await (await p?.catch(() => undefined))?.end().catch(() => undefined);
  };
  const serverVersion = async (): Promise<MysqlServerVersion> => {
    if (!server) await admin();
    return server ?? parseServerVersion("");
  };
  // A pool of its own whose current database is `database`: SHOW CREATE VIEW names the tables of
  // the current database without qualifying them, as it does for the live database.
  const fingerprintOf = async (database: string): Promise<Fingerprint> => {
    const p = await openMysql(target, database, 1);
    try {
      return await fingerprintMysql(p, database);
    } finally {
      await p.end().catch(() => undefined);
    }
  };
  const tool = (role: MysqlToolRole): Promise<MysqlTool> => {
    let found = tools.get(role);
    if (!found) {
      found = serverVersion().then((v) => findMysqlTool(role, v, options.binPath));
      found.catch(() => tools.delete(role));
      tools.set(role, found);
    }
    return found;
  };

  const scratchDeps = { target, admin, client: () => tool("client"), open: (copy: MysqlTarget) => createMysqlAdapter(copy, options) };

  return {
    dialect: "mysql",
    capabilities: { transactionalDdl: false, backupFingerprints: false },
    display: describeTarget(target),

    async check() {
      let p: MysqlPool;
      try {
        p = await connect();
      } catch (err) {
        if (isUpgradeError(err, "E_NOT_FOUND")) return { exists: false };
        throw err;
      }
      const [rows] = await p.query(
        "SELECT VERSION() AS v, (SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()) AS bytes",
      );
      const row = (rows as { v: string; bytes: string }[])[0];
      await Promise.all([tool("dump"), tool("client")]);
      return { exists: true, serverVersion: row?.v ?? "", bytes: Number(row?.bytes ?? 0) };
    },

    async backup(dir, name, copyOptions) {
      const p = await connect();
      const [rows] = await p.query(
        "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
      );
      const row = (rows as { cs: string; co: string }[])[0];
      const header: DumpHeader = { database: target.database, charset: row?.cs ?? "utf8mb4", collation: row?.co ?? "utf8mb4_general_ci" };
      return backupMysql(target, await tool("dump"), await serverVersion(), header, dir, name, copyOptions);
    },

    async restore(artifact, restoreOptions) {
      if (artifact.format !== MYSQL_DUMP_FORMAT) {
        throw new UpgradeError("E_RESTORE", `${artifact.path} is a ${artifact.format} backup, not a MySQL one`, {
          hint: "restore it with the adapter that wrote it",
        });
      }
      const p = pool;
      pool = undefined;
      await end(p); // our own sessions would hold metadata locks on the tables being replaced
      await restoreMysql(await admin(), target, await tool("client"), artifact, fingerprintOf, restoreOptions);
    },

    async fingerprint() {
      try {
        return await fingerprintMysql(await connect(), target.database);
      } catch (err) {
        throw mysqlError(err, target, "fingerprinting", "E_VERIFY");
      }
    },

    hotBackup(dir, name, copyOptions) {
      return this.backup(dir, name, copyOptions);
    },

    async fingerprintBackup(): Promise<Fingerprint> {
      throw new UpgradeError("E_INTERNAL", "MySQL dumps are fingerprinted only by loading them (capabilities.backupFingerprints is false)");
    },

    async readValue(table, column) {
      const p = await connect();
      try {
        const [tables] = await p.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [
          table,
        ]);
        if ((tables as unknown[]).length === 0) return undefined;
        const [rows] = await p.query(`SELECT ${quoteIdent(column)} AS v FROM ${quoteIdent(table)} LIMIT 1`);
        const v = (rows as { v: unknown }[])[0]?.v;
        return v === null || v === undefined ? null : String(v);
      } catch (err) {
        throw mysqlError(err, target, `reading ${table}.${column}`);
      }
    },

    changeMark: () => takeMysqlMark({ target, connect }),
    sinceMark: (mark) => checkMysqlMark({ target, connect }, mark),

    async quiesce() {
      // Nothing to do: a committed InnoDB transaction is durable in the redo log.
    },

    lockTarget: () => lockMysqlTarget(target),

    readSnapshot: () => openMysqlSnapshot(target),
    scratchCopy: (artifact, _dir, name) => mysqlScratch(scratchDeps, artifact, name),
    dropScratch: async (_dir, name) => dropMysqlScratch(await admin(), target, name),

    migrationDriver(): MigrationDriver {
      return createMysqlMigrationDriver({ target, connection: connect });
    },

    dropBackup: (artifact: BackupArtifact) => removeCounted(artifact.path),

    async close() {
      const [a, b] = [pool, adminPool];
      pool = undefined;
      adminPool = undefined;
      await Promise.all([end(a), end(b)]);
    },
  };
}
