import { existsSync, lstatSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * The real path of a file, symlinks resolved (a dangling link too: the file it would create);
 * for a file that does not exist, its folder's real path and its name (or the path as given,
 * when the folder does not exist either).
 */
export function realPathOf(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(p).isSymbolicLink()) break;
      link = readlinkSync(p);
    } catch {
      break;
    }
    p = resolve(dirname(p), link);
  }
  if (existsSync(p)) return realpathSync(p);
  const dir = dirname(p);
  return existsSync(dir) ? join(realpathSync(dir), basename(p)) : p;
}
