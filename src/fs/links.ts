/** Symbolic links on the way to a backed-up file: resolved once, recorded, put back as they were. */
import { lstat, readlink, realpath, rename, symlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { UpgradeError } from "../errors.js";
import { fsyncPath, removeIfExists, removeStaleTemps, tempPathBeside } from "./durable.js";

/** One symbolic link: where it is and what it says (its `readlink`, relative or absolute). */
export interface LinkHop {
  path: string;
  target: string;
}

/** A path as configured, the real file it leads to, and the links followed to get there. */
export interface ResolvedPath {
  /** The path as configured (absolute). */
  path: string;
  /** The file that is read and written: every symbolic link followed, the folders canonical. */
  realPath: string;
  /** `readlink(path)`, or null when the path is not a symbolic link. */
  link: string | null;
  /** Every link followed from `path` to `realPath`, in order (empty when `path` is no link). */
  links: LinkHop[];
}

/** Linux's own limit on links followed in one lookup (`ELOOP` beyond it). */
const MAX_HOPS = 40;

async function lstatOrNull(path: string) {
  return lstat(path).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" || err.code === "ENOTDIR" ? null : Promise.reject(err)));
}

/**
 * Follows the symbolic links of `path`'s last component one at a time (each relative target
 * taken from the link's real folder, as the kernel does) and returns the real file with the
 * links met. The real file need not exist: a dangling link resolves to where it points.
 *
 * @throws UpgradeError E_CONFIG on a loop of links.
 */
export async function resolveLinks(path: string): Promise<ResolvedPath> {
  const links: LinkHop[] = [];
  let current = resolve(path);
  for (;;) {
    const st = await lstatOrNull(current);
    if (!st?.isSymbolicLink()) break;
    if (links.length >= MAX_HOPS) {
      throw new UpgradeError("E_CONFIG", `${path}: too many levels of symbolic links`, {
        hint: "fix the loop of symbolic links",
        details: { path },
      });
    }
    const target = await readlink(current);
    links.push({ path: current, target });
    const folder = await realpath(dirname(current)).catch(() => dirname(current));
    current = resolve(folder, target);
  }
  const folder = await realpath(dirname(current)).catch(() => dirname(current));
  return { path: resolve(path), realPath: join(folder, basename(current)), link: links[0]?.target ?? null, links };
}

/** What differs between the recorded links and the ones on disk now, or null when they are the same. */
export async function linkDrift(links: readonly LinkHop[]): Promise<string | null> {
  for (const hop of links) {
    const st = await lstatOrNull(hop.path);
    if (!st) return `the symbolic link ${hop.path} is missing`;
    if (!st.isSymbolicLink()) return `${hop.path} is no longer a symbolic link to ${hop.target}`;
    const now = await readlink(hop.path);
    if (now !== hop.target) return `${hop.path} points to ${now}, not ${hop.target}`;
  }
  return null;
}

/**
 * Puts every recorded link back as it was: a link that was replaced (by a regular file or
 * another link) or removed is recreated under a temporary name and renamed over, so the path
 * is never missing; the folder is fsynced. Links that are intact are left alone.
 *
 * @throws UpgradeError E_RESTORE when a directory now stands where a link was.
 */
export async function restoreLinks(links: readonly LinkHop[]): Promise<void> {
  for (const hop of links) {
    const st = await lstatOrNull(hop.path);
    if (st?.isSymbolicLink() && (await readlink(hop.path)) === hop.target) continue;
    if (st?.isDirectory()) {
      throw new UpgradeError("E_RESTORE", `a directory now stands where the symbolic link ${hop.path} was`, {
        hint: `move the directory away, then: ln -s ${hop.target} ${hop.path}`,
        details: { path: hop.path, target: hop.target },
      });
    }
    await removeStaleTemps(hop.path, "link");
    const tmp = tempPathBeside(hop.path, "link");
    try {
      await symlink(hop.target, tmp);
      await rename(tmp, hop.path);
    } catch (err) {
      await removeIfExists(tmp).catch(() => undefined);
      throw err;
    }
    await fsyncPath(dirname(hop.path));
  }
}
