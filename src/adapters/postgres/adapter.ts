import { lockPostgresTarget } from "./target-lock.js";
import { rm } from "node:fs/promises";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { MigrationDriver } from "../../migrations/types.js";
import { describeTarget } from "../../url.js";
import type { BackupArtifact, CopyOptions, DatabaseAdapter, Fingerprint } from "../types.js";
import { PG_DUMP_FORMAT, backupPostgres } from "./backup.js";
import { onDatabase, openPg, pgError, type PgSql, type PostgresTarget } from "./connection.js";
import { createDatabaseLike, derivedName, dropDatabase, readDatabaseProps } from "./databases.js";
import { fingerprintPostgres } from "./fingerprint.js";
import { createPostgresMigrationDriver } from "./migration-driver.js";
import { pgRestoreInto, restorePostgres } from "./restore.js";
import { PG_TEMPLATE_FORMAT, backupByTemplate, dropTemplateBackup, readTemplateManifest, restoreFromTemplate } from "./template.js";
import { findPgTool, type PgTool, type PgToolName } from "./tools.js";

/** Options of `createPostgresAdapter`. */
export interface PostgresAdapterOptions {
  /**
   * `dump` (default): restore points are `pg_dump --format=custom` files, restored with
   * pg_restore into a fresh database swapped in by name. `template`: restore points are
   * `CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY` copies on the same server (several times
   * faster, but the copy lives on the server, needs its disk space, and needs the service
   * stopped: while other sessions are connected a pg_dump file is taken instead).
   */
  backupStrategy?: "dump" | "template";
  /** Directories searched for pg_dump and pg_restore, PATH syntax; default PATH. */
  binPath?: string;
  /** pg_dump's `--compress` level (0-9); default pg_dump's own. */
  compress?: number;
  /** The database used to create, rename and drop databases; default `postgres`. */
  maintenanceDatabase?: string;
}

/** The PostgreSQL adapter, with what it adds to `DatabaseAdapter`. */
export interface PostgresAdapter extends DatabaseAdapter {
  readonly dialect: "postgres";
  /** Deletes a restore point (a dump file, or a template copy and its manifest), once no run needs it. */
  dropBackup(artifact: BackupArtifact): Promise<void>;
}

/**
 * A `DatabaseAdapter` for a PostgreSQL database, on postgres.js (loaded on first use), with
 * backups by the real pg_dump / pg_restore (checked against the server's version). Two small
 * pools are opened lazily: one on the target, one on the maintenance database (for database
 * copies and swaps); `restore` and template backups close the first, `close` closes both.
 */
export function createPostgresAdapter(target: PostgresTarget, options: PostgresAdapterOptions = {}): PostgresAdapter {
  const strategy = options.backupStrategy ?? "dump";
  const maintenance = options.maintenanceDatabase ?? "postgres";
  let pool: Promise<PgSql> | undefined;
  let adminPool: Promise<PgSql> | undefined;
  let versionNum: number | undefined;
  const tools = new Map<PgToolName, Promise<PgTool>>();

  const verified = (t: PostgresTarget, what: string) => async (): Promise<PgSql> => {
    const sql = await openPg(t);
    try {
      const [row] = await sql<{ v: string }[]>`SELECT current_setting('server_version_num') AS v`;
      versionNum = Number(row?.v);
      return sql;
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => undefined);
      throw pgError(err, t, what);
    }
  };
  const connect = (): Promise<PgSql> => {
    pool ??= verified(target, "connecting")().catch((err: unknown) => {
      pool = undefined;
      throw err;
    });
    return pool;
  };
  const admin = (): Promise<PgSql> => {
    adminPool ??= verified(onDatabase(target, maintenance), "connecting to the maintenance database")().catch((err: unknown) => {
      adminPool = undefined;
      throw err;
    });
    return adminPool;
  };
  const end = async (which: Promise<PgSql> | undefined): Promise<void> => {
    const sql = await which?.catch(() => undefined);
    await sql?.end({ timeout: 5 });
  };
  const disconnect = async (): Promise<void> => {
    const p = pool;
    pool = undefined;
    await end(p);
  };
  /** From the target itself (the maintenance database may be closed to this user); from the server when the target is missing. */
  const serverVersion = async (): Promise<number> => {
    if (versionNum === undefined) {
      await connect().catch((err: unknown) => {
        if (isUpgradeError(err, "E_NOT_FOUND")) return admin();
        throw err;
      });
    }
    return versionNum ?? 0;
  };
  const tool = (name: PgToolName): Promise<PgTool> => {
    let found = tools.get(name);
    if (!found) {
      found = serverVersion().then((v) => findPgTool(name, v, options.binPath));
      found.catch(() => tools.delete(name));
      tools.set(name, found);
    }
    return found;
  };
  const dump = async (dir: string, name: string, copyOptions?: CopyOptions) =>
    backupPostgres(target, await tool("pg_dump"), dir, name, { ...copyOptions, ...(options.compress !== undefined ? { compress: options.compress } : {}) });

  const fingerprintOf = async (database: string): Promise<Fingerprint> => {
    const sql = await verified(onDatabase(target, database), "fingerprinting a restore point")();
    try {
      return await fingerprintPostgres(sql);
    } finally {
      await sql.end({ timeout: 5 });
    }
  };

  const adapter: PostgresAdapter = {
    dialect: "postgres",
    capabilities: { transactionalDdl: true },
    display: describeTarget(target),

    async check() {
      let sql: PgSql;
      try {
        sql = await connect();
      } catch (err) {
        if (isUpgradeError(err, "E_NOT_FOUND")) return { exists: false };
        throw err;
      }
      const [row] = await sql<{ v: string; bytes: string }[]>`SELECT version() AS v, pg_database_size(current_database())::text AS bytes`;
      // Both, in either strategy: a template backup falls back to pg_dump while sessions are connected.
      await Promise.all([tool("pg_dump"), tool("pg_restore")]);
      return { exists: true, serverVersion: row?.v ?? "", bytes: Number(row?.bytes ?? 0) };
    },

    async backup(dir, name, copyOptions) {
      if (strategy === "template") {
        await disconnect(); // our own session would make PostgreSQL refuse the copy
        try {
          return await backupByTemplate(await admin(), target, dir, name, await serverVersion(), copyOptions);
        } catch (err) {
          if (!isUpgradeError(err, "E_BUSY")) throw err;
        }
      }
      return dump(dir, name, copyOptions);
    },

    async restore(artifact, copyOptions) {
      await disconnect();
      if (artifact.format === PG_TEMPLATE_FORMAT) return restoreFromTemplate(await admin(), target, artifact, await serverVersion(), copyOptions);
      if (artifact.format !== PG_DUMP_FORMAT) {
        throw new UpgradeError("E_RESTORE", `${artifact.path} is a ${artifact.format} backup, not a PostgreSQL one`, { hint: "restore it with the adapter that wrote it" });
      }
      return restorePostgres(await admin(), target, await tool("pg_restore"), artifact, copyOptions);
    },

    async fingerprint() {
      try {
        return await fingerprintPostgres(await connect());
      } catch (err) {
        throw pgError(err, target, "fingerprinting", "E_VERIFY");
      }
    },

    async quiesce() {
      // Nothing to do: a committed transaction is durable in PostgreSQL's WAL.
    },

    lockTarget: () => lockPostgresTarget(target, maintenance),

    migrationDriver(): MigrationDriver {
      return createPostgresMigrationDriver({ target, connection: connect });
    },

    async dropBackup(artifact) {
      if (artifact.format === PG_TEMPLATE_FORMAT) return dropTemplateBackup(await admin(), artifact);
      await rm(artifact.path, { force: true });
    },

    async close() {
      const a = adminPool;
      adminPool = undefined;
      await Promise.all([disconnect(), end(a)]);
    },
  };

  if (strategy === "template") {
    /** Template copies are fingerprinted in place; a dump (taken while sessions were connected) through a scratch restore. */
    adapter.fingerprintBackup = async (artifact: BackupArtifact): Promise<Fingerprint> => {
      if (artifact.format === PG_TEMPLATE_FORMAT) return fingerprintOf((await readTemplateManifest(await admin(), artifact)).snapshot);
      const sql = await admin();
      const scratch = derivedName(target.database, "verify");
      await dropDatabase(sql, scratch);
      await createDatabaseLike(sql, scratch, await readDatabaseProps(sql, target.database));
      try {
        await pgRestoreInto(target, await tool("pg_restore"), artifact, scratch);
        return await fingerprintOf(scratch);
      } finally {
        await dropDatabase(sql, scratch);
      }
    };
  }
  return adapter;
}
