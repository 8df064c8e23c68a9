import { removeCounted } from "../../fs/durable.js";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import type { MigrationDriver } from "../../migrations/types.js";
import { describeTarget } from "../../url.js";
import type { BackupArtifact, CopyOptions, DatabaseAdapter, Fingerprint } from "../types.js";
import { PG_DUMP_FORMAT, backupPostgres } from "./backup.js";
import { onDatabase, openPg, pgError, quoteIdent, type PgSql, type PostgresTarget } from "./connection.js";
import { createDatabaseLike, derivedName, dropDatabase, readDatabaseProps } from "./databases.js";
import { fingerprintPostgres } from "./fingerprint.js";
import { createPostgresMigrationDriver } from "./migration-driver.js";
import { pgRestoreInto, restorePostgres } from "./restore.js";
import { PG_TEMPLATE_FORMAT, backupByTemplate, dropTemplateBackup, readTemplateManifest, restoreFromTemplate } from "./template.js";
import { afterStopCost, templateHotBackupNote } from "./costs.js";
import { pgCatalog, type PgCatalog } from "./catalog.js";
import { lockPostgresTarget } from "./target-lock.js";
import { dropPgScratch, pgScratch } from "./scratch.js";
import { checkPgMark, takePgMark } from "./change-mark.js";
import { walKeeper } from "./wal-slot.js";
import { openPgSnapshot } from "./snapshot.js";
import { describeClientTools, findPgClientTools, noClientToolsError, type PgClientTools, type PgToolSearchResult } from "./tools.js";

/** Options of `createPostgresAdapter`. */
export interface PostgresAdapterOptions {
  /**
   * `dump` (default): restore points are `pg_dump --format=custom` files, restored with
   * pg_restore into a fresh database swapped in by name; needs pg_dump and pg_restore at least as
   * new as the server. `template`: restore points are `CREATE DATABASE ... TEMPLATE` copies on the
   * same server (several times faster, but the copy lives on the server and needs its disk
   * space); they need no client tools. A template copy needs no other session on the database: the
   * hot backup before the stop is a pg_dump while the service is connected (when a suitable
   * pg_dump exists) or skipped (the restore point is then taken after the stop).
   */
  backupStrategy?: "dump" | "template";
  /** `backup.toolsPath`: directories searched first for pg_dump and pg_restore (PATH syntax); then PATH, then `installDirs`. */
  binPath?: string;
  /** Directories searched last; default the usual install locations of each major (`installLocations()`). */
  installDirs?: string[];
  /** pg_dump's `--compress` level (0-9); default pg_dump's own. */
  compress?: number;
  /** The database used to create, rename and drop databases; default `postgres`. */
  maintenanceDatabase?: string;
}

/** The PostgreSQL adapter, with what it adds to `DatabaseAdapter`. */
export interface PostgresAdapter extends DatabaseAdapter {
  readonly dialect: "postgres";
}

/**
 * A `DatabaseAdapter` for a PostgreSQL database (14 to 18), on postgres.js (loaded on first use),
 * with backups by the real pg_dump / pg_restore (the newest found that can serve the server) or by
 * template copies. Two small pools are opened lazily: one on the target, one on the maintenance
 * database (for database copies and swaps); `restore` and template backups close the first,
 * `close` closes both.
 */
export function createPostgresAdapter(target: PostgresTarget, options: PostgresAdapterOptions = {}): PostgresAdapter {
  const strategy = options.backupStrategy ?? "dump";
  const maintenance = options.maintenanceDatabase ?? "postgres";
  let pool: Promise<PgSql> | undefined;
  let adminPool: Promise<PgSql> | undefined;
  let versionNum: number | undefined;
  let toolSearch: Promise<PgToolSearchResult> | undefined;

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
  /** The server's catalog differences, from the target (the maintenance database may be closed to this user), or the server when the target is missing. */
  const catalog = async (): Promise<PgCatalog> => {
    if (versionNum === undefined) {
      await connect().catch((err: unknown) => {
        if (isUpgradeError(err, "E_NOT_FOUND")) return admin();
        throw err;
      });
    }
    return pgCatalog(versionNum ?? 0);
  };
  const searchTools = (): Promise<PgToolSearchResult> => {
    toolSearch ??= catalog().then((c) =>
      findPgClientTools(c.versionNum, {
        ...(options.binPath !== undefined ? { toolsPath: options.binPath } : {}),
        ...(options.installDirs ? { installDirs: options.installDirs } : {}),
      }),
    );
    toolSearch.catch(() => (toolSearch = undefined));
    return toolSearch;
  };
  /** The client tools, or E_TOOL_MISSING / E_TOOL_VERSION (with the advice that the template strategy needs none). */
  const clientTools = async (): Promise<PgClientTools> => {
    const found = await searchTools();
    if (!found.chosen) throw noClientToolsError(found);
    return found.chosen;
  };
  const dump = async (dir: string, name: string, copyOptions?: CopyOptions) =>
    backupPostgres(target, (await clientTools()).pgDump, dir, name, {
      ...copyOptions,
      ...(options.compress !== undefined ? { compress: options.compress } : {}),
    });
  const templateCopy = async (dir: string, name: string, copyOptions?: CopyOptions) => {
    await disconnect(); // our own session would make PostgreSQL refuse the copy
    return backupByTemplate(await admin(), target, dir, name, await catalog(), copyOptions);
  };

  const sizeOf = async (): Promise<number> => {
    const [row] = await (await admin())<{ bytes: string | null }[]>`SELECT pg_database_size(${target.database})::text AS bytes`;
    return Number(row?.bytes ?? 0);
  };

  const fingerprintOf = async (database: string): Promise<Fingerprint> => {
    const sql = await verified(onDatabase(target, database), "fingerprinting a restore point")();
    try {
      return await fingerprintPostgres(sql);
    } finally {
      await sql.end({ timeout: 5 });
    }
  };

  const markDeps = { target, maintenance, admin, connect, wal: walKeeper(target, maintenance) };
  const scratchDeps = {
    target,
    admin,
    catalog,
    pgRestore: async () => (await clientTools()).pgRestore,
    open: (copy: PostgresTarget) => createPostgresAdapter(copy, options),
  };

  return {
    dialect: "postgres",
    // Template copies are fingerprinted in place (a dump taken while sessions were connected
    // through a scratch restore); dump restore points only by restoring them.
    capabilities: { transactionalDdl: true, backupFingerprints: strategy === "template" },
    display: describeTarget(target),

    async check() {
      let sql: PgSql;
      try {
        sql = await connect();
      } catch (err) {
        if (isUpgradeError(err, "E_NOT_FOUND")) return { exists: false };
        throw err;
      }
      const [row] = await sql<{ v: string; bytes: string; others: number }[]>`
        SELECT current_setting('server_version') AS v, pg_database_size(current_database())::text AS bytes,
          (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
             AND application_name IS DISTINCT FROM 'upgrade-machine') AS others`;
      const tools = await searchTools();
      if (strategy === "dump" && !tools.chosen) throw noClientToolsError(tools);
      const bytes = Number(row?.bytes ?? 0);
      const serverVersion = (row?.v ?? "").split(" ")[0] ?? ""; // "15.20 (Debian 15.20-0+deb12u1)"
      const notes = [`PostgreSQL ${serverVersion}, ${strategy} restore points; ${describeClientTools(tools)}`];
      if (strategy === "template") notes.push(templateHotBackupNote(tools.chosen !== null, row?.others ?? 0, bytes));
      const choices = {
        serverVersion,
        strategy,
        clientTools: tools.chosen && {
          dir: tools.chosen.dir,
          source: tools.chosen.source,
          pg_dump: tools.chosen.pgDump.version,
          pg_restore: tools.chosen.pgRestore.version,
        },
        rejectedTools: tools.rejected,
      };
      return { exists: true, serverVersion, bytes, choices, notes };
    },

    async backup(dir, name, copyOptions) {
      if (strategy === "template") {
        try {
          return await templateCopy(dir, name, copyOptions);
        } catch (err) {
          // After the stop a session may linger: a pg_dump needs none closed, when one can serve.
          if (!isUpgradeError(err, "E_BUSY") || !(await searchTools()).chosen) throw err;
        }
      }
      return dump(dir, name, copyOptions);
    },

    async hotBackup(dir, name, copyOptions) {
      if (strategy === "dump") return dump(dir, name, copyOptions);
      try {
        return await templateCopy(dir, name, copyOptions);
      } catch (err) {
        if (!isUpgradeError(err, "E_BUSY")) throw err;
      }
      const tools = await searchTools();
      if (tools.chosen) return dump(dir, name, copyOptions);
      return {
        skipped: `no hot backup: other sessions are connected (a template copy needs none) and ${describeClientTools(tools).replace(/^client tools: /, "")}; ${afterStopCost(await sizeOf())}`,
      };
    },

    async restore(artifact, copyOptions) {
      await disconnect();
      if (artifact.format === PG_TEMPLATE_FORMAT) return restoreFromTemplate(await admin(), target, artifact, await catalog(), copyOptions);
      if (artifact.format !== PG_DUMP_FORMAT) {
        throw new UpgradeError("E_RESTORE", `${artifact.path} is a ${artifact.format} backup, not a PostgreSQL one`, {
          hint: "restore it with the adapter that wrote it",
        });
      }
      return restorePostgres(await admin(), await catalog(), target, (await clientTools()).pgRestore, artifact, copyOptions);
    },

    async fingerprint() {
      try {
        return await fingerprintPostgres(await connect());
      } catch (err) {
        throw pgError(err, target, "fingerprinting", "E_VERIFY");
      }
    },

    async fingerprintBackup(artifact: BackupArtifact): Promise<Fingerprint> {
      if (strategy !== "template")
        throw new UpgradeError(
          "E_INTERNAL",
          "dump restore points are fingerprinted only by restoring them (capabilities.backupFingerprints is false)",
        );
      if (artifact.format === PG_TEMPLATE_FORMAT) return fingerprintOf((await readTemplateManifest(await admin(), artifact)).snapshot);
      const sql = await admin();
      const scratch = derivedName(target.database, "verify");
      await dropDatabase(sql, scratch);
      const pgRestore = (await clientTools()).pgRestore;
      await createDatabaseLike(sql, await catalog(), scratch, await readDatabaseProps(sql, target.database, await catalog()));
      try {
        await pgRestoreInto(target, pgRestore, artifact, scratch);
        return await fingerprintOf(scratch);
      } finally {
        await dropDatabase(sql, scratch);
      }
    },

    async readValue(table, column) {
      const sql = await connect();
      try {
        const [present] = await sql<{ ok: boolean }[]>`SELECT to_regclass(${quoteIdent(table)}) IS NOT NULL AS ok`;
        if (!present?.ok) return undefined;
        const [row] = await sql.unsafe<Record<string, unknown>[]>(`SELECT ${quoteIdent(column)} AS v FROM ${quoteIdent(table)} LIMIT 1`);
        return row === undefined || row.v === null || row.v === undefined ? null : String(row.v);
      } catch (err) {
        throw pgError(err, target, `reading ${table}.${column}`);
      }
    },

    changeMark: () => takePgMark(markDeps),
    sinceMark: (mark) => checkPgMark(markDeps, mark),
    forgetMarks: () => markDeps.wal.forget(),

    // Nothing to do: a committed transaction is durable in PostgreSQL's WAL.
    quiesce: async () => undefined,

    lockTarget: () => lockPostgresTarget(target, maintenance),

    readSnapshot: () => openPgSnapshot(target),
    scratchCopy: (artifact, _dir, name) => pgScratch(scratchDeps, artifact, name),
    dropScratch: async (_dir, name) => dropPgScratch(await admin(), target, name),

    migrationDriver: (): MigrationDriver => createPostgresMigrationDriver({ target, connection: connect }),

    async dropBackup(artifact) {
      if (artifact.format === PG_TEMPLATE_FORMAT) return dropTemplateBackup(await admin(), artifact);
      return removeCounted(artifact.path);
    },

    async close() {
      const a = adminPool;
      adminPool = undefined;
      await Promise.all([disconnect(), end(a), markDeps.wal.forget()]);
    },
  };
}
