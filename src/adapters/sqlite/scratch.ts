import { chmod, copyFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { UpgradeError } from "../../errors.js";
import { removeIfExists } from "../../fs/durable.js";
import type { BackupArtifact, DatabaseAdapter, ScratchCopy } from "../types.js";
import { migrationLockPath } from "./lock.js";

/** The scratch copy's file: `<dir>/<name>.sqlite`. */
export function scratchPath(dir: string, name: string): string {
  return join(dir, `${name}.sqlite`);
}

/** Removes a scratch copy and every file SQLite may have put beside it (journal, WAL, shared memory, migration lock). */
export async function dropSqliteScratch(dir: string, name: string): Promise<void> {
  const path = scratchPath(dir, name);
  await removeIfExists(path, `${path}-journal`, `${path}-wal`, `${path}-shm`, migrationLockPath(path));
}

/**
 * A scratch copy of a SQLite backup: a plain file copy (0600) in the run's backup folder, opened
 * by `open` as an adapter of its own. The hot backup is a complete database file, so a copy of it
 * is the database as the backup holds it.
 */
export async function sqliteScratch(
  artifact: BackupArtifact,
  dir: string,
  name: string,
  open: (path: string) => DatabaseAdapter,
): Promise<ScratchCopy> {
  await dropSqliteScratch(dir, name);
  const path = scratchPath(dir, name);
  try {
    await copyFile(artifact.path, path);
    await chmod(path, 0o600);
  } catch (err) {
    await dropSqliteScratch(dir, name);
    throw new UpgradeError("E_REHEARSAL", `cannot copy the hot backup ${artifact.path} for the rehearsal: ${(err as Error).message}`, {
      hint: `free space in ${dir}, or turn the rehearsal off with "rehearse": false`,
      details: { path },
      cause: err,
    });
  }
  const bytes = (await stat(path)).size;
  return { how: "file copy of the hot backup", bytes, adapter: open(path), location: { databasePath: path }, display: path };
}
