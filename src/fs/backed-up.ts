/** Preflight's view of the paths a run backs up: every link resolved, every entry a regular file of its own. */
import { stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { UpgradeError } from "../errors.js";
import { requireRegularFile } from "./files.js";
import { resolveLinks, type ResolvedPath } from "./links.js";

/** Suffixes of the files SQLite keeps beside a database; they are part of it. */
const SQLITE_SIDE_FILES = ["", "-wal", "-shm", "-journal"];

/** A file that must never be listed in `files`, and why. */
export interface ProtectedFile {
  path: string;
  what: string;
}

/** What preflight learned about the backed-up paths. */
export interface BackedUpPaths {
  /** The database file resolved, when the database is a file (SQLite). */
  database: ResolvedPath | null;
  files: ResolvedPath[];
  /** The sum of the files' sizes. */
  bytes: number;
}

const statOrNull = (path: string): Promise<Stats | null> => stat(path).catch(() => null);
const sameFile = (a: Stats | null, b: Stats | null): boolean => !!a && !!b && a.dev === b.dev && a.ino === b.ino;

/**
 * Resolves the database file (when there is one) and every `files` entry through its symbolic
 * links, and refuses, before anything is changed, an entry that does not exist, is not a regular
 * file (a directory, a FIFO, a device), or is the database itself or one of its side files (by
 * real path or by inode, so a symlink or a hard link is caught too), or another protected file.
 *
 * @throws UpgradeError E_CONFIG naming the entry.
 */
export async function resolveBackedUpPaths(
  databaseFile: string | null,
  files: readonly string[],
  protect: readonly ProtectedFile[] = [],
): Promise<BackedUpPaths> {
  const database = databaseFile === null ? null : await resolveLinks(databaseFile);
  const guarded: { path: string; what: string; st: Stats | null }[] = [];
  const guard = async (path: string, what: string) => {
    for (const suffix of SQLITE_SIDE_FILES)
      guarded.push({
        path: `${path}${suffix}`,
        what: suffix ? `the ${what}'s ${suffix} file` : `the ${what}`,
        st: await statOrNull(`${path}${suffix}`),
      });
  };
  if (database) await guard(database.realPath, "database");
  for (const p of protect) await guard((await resolveLinks(p.path)).realPath, p.what);

  const resolved: ResolvedPath[] = [];
  let bytes = 0;
  for (const [i, file] of files.entries()) {
    const label = `files[${i}]: ${file}`;
    const r = await resolveLinks(file);
    const st = await statOrNull(r.realPath);
    if (!st) {
      throw new UpgradeError("E_CONFIG", `${label} does not exist${r.links.length ? ` (the symbolic link leads to ${r.realPath})` : ""}`, {
        hint: "fix the path (relative to the config file) or remove it from `files`",
        details: { file, realPath: r.realPath },
      });
    }
    requireRegularFile(st, label);
    const hit = guarded.find((g) => g.path === r.realPath || sameFile(g.st, st));
    if (hit) {
      throw new UpgradeError("E_CONFIG", `${label} is ${hit.what} itself`, {
        hint: "remove it from `files`: the database is backed up and restored through its adapter, the journal is never restored",
        details: { file, realPath: r.realPath },
      });
    }
    resolved.push(r);
    bytes += st.size;
  }
  return { database, files: resolved, bytes };
}
