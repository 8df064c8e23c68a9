import { createHash } from "node:crypto";
import { open, readFile, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UpgradeError } from "../../errors.js";
import { checkBackupName, verifyArtifact } from "../external/dump-file.js";
import { ensurePrivateDir, fsyncPath, removeCounted, tempPathBeside } from "../../fs/durable.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import type { PgCatalog } from "./catalog.js";
import { pgError, quoteIdent, type PgSql, type PostgresTarget } from "./connection.js";
import { createDatabaseLike, databaseExists, derivedName, dropDatabase, readDatabaseProps, swapDatabase } from "./databases.js";

/** The `format` of artifacts written by `backupByTemplate`: a manifest naming a database copy. */
export const PG_TEMPLATE_FORMAT = "pg-template-database";

/** The manifest file of a template restore point. */
export interface TemplateManifest {
  format: typeof PG_TEMPLATE_FORMAT;
  /** The database holding the copy, on the target's server. */
  snapshot: string;
  /** The database it copies. */
  source: string;
  /** pg_database_size of the copy. */
  databaseBytes: number;
  createdAt: string;
}

/**
 * Takes a restore point on the same server: `CREATE DATABASE <db>__um_<name>_<hash of dir> TEMPLATE <db>`
 * with `STRATEGY FILE_COPY` on 15+ (a file-level copy, about twice as fast as WAL_LOG and far
 * faster than pg_dump + pg_restore; see `copyStrategyClause`), plus a small manifest `<dir>/<name>.pgtemplate.json` (0600) naming
 * it; the artifact's sha256 is the manifest's. PostgreSQL refuses the copy while any other
 * session is connected to the source, and holds new connections off while it copies, so the
 * copy is exact. Re-running replaces the copy.
 *
 * @throws UpgradeError E_BUSY when other sessions are connected (take a pg_dump instead, or stop
 * the service first); E_BACKUP otherwise.
 */
export async function backupByTemplate(
  admin: PgSql,
  target: PostgresTarget,
  dir: string,
  name: string,
  catalog: PgCatalog,
  options: CopyOptions = {},
): Promise<BackupArtifact> {
  checkBackupName(name);
  const backupDir = resolve(dir);
  // The directory is part of the name: two runs' restore points named alike never collide.
  const snapshot = derivedName(target.database, `${name}_${createHash("sha256").update(backupDir).digest("hex").slice(0, 8)}`);
  await ensurePrivateDir(backupDir);
  let databaseBytes: number;
  try {
    await dropDatabase(admin, snapshot);
    await createDatabaseLike(admin, catalog, snapshot, undefined, target.database);
    const [row] = await admin<{ bytes: string }[]>`SELECT pg_database_size(${snapshot})::text AS bytes`;
    databaseBytes = Number(row?.bytes ?? 0);
  } catch (err) {
    if ((err as { code?: string }).code === "55006") {
      throw new UpgradeError("E_BUSY", `cannot copy ${target.database} as a template: other sessions are connected to it`, {
        hint: "a template restore point needs the service stopped; the database was not changed",
        cause: err,
      });
    }
    throw pgError(err, target, "copying the database as a template", "E_BACKUP");
  }
  const manifest: TemplateManifest = {
    format: PG_TEMPLATE_FORMAT,
    snapshot,
    source: target.database,
    databaseBytes,
    createdAt: new Date().toISOString(),
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const finalPath = join(backupDir, `${name}.pgtemplate.json`);
  const tmpPath = tempPathBeside(finalPath, "backup");
  const handle = await open(tmpPath, "wx", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmpPath, finalPath);
  await fsyncPath(backupDir);
  try {
    options.onProgress?.({ unit: "bytes", done: databaseBytes, total: databaseBytes });
  } catch {
    // progress listeners must not break a backup
  }
  const sha256 = createHash("sha256").update(text).digest("hex");
  return { path: finalPath, bytes: Buffer.byteLength(text), sha256, format: PG_TEMPLATE_FORMAT, createdAt: manifest.createdAt };
}

/** Reads and checks a template manifest (sha256 first); E_RESTORE when corrupt or its database is gone. */
export async function readTemplateManifest(admin: PgSql, artifact: BackupArtifact): Promise<TemplateManifest> {
  await verifyArtifact(artifact);
  const manifest = JSON.parse(await readFile(artifact.path, "utf8")) as TemplateManifest;
  if (!(await databaseExists(admin, manifest.snapshot))) {
    throw new UpgradeError("E_RESTORE", `the restore point database ${manifest.snapshot} named by ${artifact.path} does not exist`, {
      hint: "it was dropped: restore from a pg_dump backup instead (the database was not changed)",
      details: { snapshot: manifest.snapshot },
    });
  }
  return manifest;
}

/**
 * Restores a template restore point: a file copy of the snapshot database becomes a scratch
 * database (with the target's owner, privileges and settings), swapped in by name atomically
 * (see `swapDatabase`). The snapshot itself is kept, so the restore can be repeated.
 */
export async function restoreFromTemplate(
  admin: PgSql,
  target: PostgresTarget,
  artifact: BackupArtifact,
  catalog: PgCatalog,
  options: CopyOptions = {},
): Promise<void> {
  const manifest = await readTemplateManifest(admin, artifact);
  const scratch = derivedName(target.database, "restore");
  try {
    const props = await readDatabaseProps(admin, target.database, catalog);
    await dropDatabase(admin, scratch);
    await createDatabaseLike(admin, catalog, scratch, props, manifest.snapshot);
    options.onProgress?.({ unit: "bytes", done: manifest.databaseBytes, total: manifest.databaseBytes });
    await swapDatabase(admin, target.database, scratch);
  } catch (err) {
    await dropDatabase(admin, scratch).catch(() => undefined);
    throw pgError(err, target, "restoring from the template copy", "E_RESTORE");
  }
}

/**
 * Drops a template restore point's database and its manifest (once no run needs it); returns the
 * bytes freed: the copy's size on the server (when it still existed) and the manifest's.
 */
export async function dropTemplateBackup(admin: PgSql, artifact: BackupArtifact): Promise<number> {
  const text = await readFile(artifact.path, "utf8").catch(() => null);
  if (text === null) return 0;
  const manifest = JSON.parse(text) as TemplateManifest;
  const [row] = await admin<
    { bytes: string | null }[]
  >`SELECT pg_database_size(datname)::text AS bytes FROM pg_database WHERE datname = ${manifest.snapshot}`;
  await admin.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(manifest.snapshot)} WITH (FORCE)`);
  return Number(row?.bytes ?? 0) + (await removeCounted(artifact.path));
}
