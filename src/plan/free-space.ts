import { statfs } from "node:fs/promises";
import { dirname } from "node:path";

/** Bytes free for an unprivileged user where `dir` is (or would be created: its nearest existing parent). */
export async function freeBytes(dir: string): Promise<number | null> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const fs = await statfs(d);
      return fs.bavail * fs.bsize;
    } catch {
      if (dirname(d) === d) return null;
    }
  }
}
