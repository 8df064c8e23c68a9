import { UpgradeError } from "../../errors.js";
import { describeTarget } from "../../url.js";
import { connectionUrl } from "../connection-url.js";
import type { BackupArtifact, DatabaseAdapter, ScratchCopy } from "../types.js";
import type { PgCatalog } from "./catalog.js";
import { onDatabase, pgError, type PgSql, type PostgresTarget } from "./connection.js";
import { createDatabaseLike, derivedName, dropDatabase, readDatabaseProps } from "./databases.js";
import { PG_DUMP_FORMAT } from "./backup.js";
import { pgRestoreInto } from "./restore.js";
import { PG_TEMPLATE_FORMAT, readTemplateManifest } from "./template.js";
import type { PgTool } from "./tools.js";

/** What a scratch copy needs of the adapter. */
export interface PgScratchDeps {
  target: PostgresTarget;
  admin(): Promise<PgSql>;
  catalog(): Promise<PgCatalog>;
  pgRestore(): Promise<PgTool>;
  /** The copy as an adapter of its own. */
  open(target: PostgresTarget): DatabaseAdapter;
}

/** The scratch database's name: `<db>__um_<name>`, on the target's server (no other target has that name). */
export function pgScratchName(target: PostgresTarget, name: string): string {
  return derivedName(target.database, name);
}

/**
 * A scratch database copied from a backup, the way the restore makes its own: from a template
 * restore point, `CREATE DATABASE ... TEMPLATE <snapshot>` (a file copy); from a dump, a database
 * like the target (owner, locale) loaded by pg_restore in one transaction. A copy of the same name
 * left by an earlier attempt is dropped first; a copy that fails half-way is dropped.
 */
export async function pgScratch(deps: PgScratchDeps, artifact: BackupArtifact, name: string): Promise<ScratchCopy> {
  const { target } = deps;
  const admin = await deps.admin();
  const catalog = await deps.catalog();
  const scratch = pgScratchName(target, name);
  let how: string;
  try {
    await dropDatabase(admin, scratch);
    if (artifact.format === PG_TEMPLATE_FORMAT) {
      const manifest = await readTemplateManifest(admin, artifact);
      await createDatabaseLike(admin, catalog, scratch, undefined, manifest.snapshot);
      how = `CREATE DATABASE ... TEMPLATE of the restore point ${manifest.snapshot}`;
    } else if (artifact.format === PG_DUMP_FORMAT) {
      await createDatabaseLike(admin, catalog, scratch, await readDatabaseProps(admin, target.database, catalog));
      await pgRestoreInto(target, await deps.pgRestore(), artifact, scratch);
      how = "pg_restore of the hot backup into a scratch database";
    } else {
      throw new UpgradeError("E_REHEARSAL", `${artifact.path} is a ${artifact.format} backup, not a PostgreSQL one`, {
        hint: "the rehearsal copies the hot backup this adapter wrote",
      });
    }
  } catch (err) {
    await dropDatabase(admin, scratch).catch(() => undefined);
    throw pgError(err, target, `making the rehearsal's scratch copy ${scratch}`, "E_REHEARSAL");
  }
  const [row] = await admin<{ bytes: string }[]>`SELECT pg_database_size(${scratch})::text AS bytes`;
  const copy = onDatabase(target, scratch);
  return {
    how,
    bytes: Number(row?.bytes ?? 0),
    adapter: deps.open(copy),
    location: { databaseUrl: connectionUrl(copy) },
    display: describeTarget(copy),
  };
}

/** Drops the scratch database `name` when it exists (its sessions ended first). */
export async function dropPgScratch(admin: PgSql, target: PostgresTarget, name: string): Promise<void> {
  await dropDatabase(admin, pgScratchName(target, name));
}
