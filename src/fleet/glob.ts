import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** A glob segment as a regular expression: `*` and `?` never cross a `/`; a leading dot is matched only by a dot. */
function segmentRegex(segment: string): RegExp {
  const body = segment
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  return new RegExp(`^${body}$`);
}

const hasMagic = (s: string) => /[*?]/.test(s);

async function entries(dir: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).map((d) => ({ name: d.name, dir: d.isDirectory() }));
  } catch {
    return [];
  }
}

/**
 * The files under `baseDir` that `pattern` matches (`*`, `?` within a segment, `**` any depth),
 * absolute and sorted. Hidden entries match only a segment that starts with a dot. Symlinked
 * folders are not followed by `**`.
 */
export async function globFiles(pattern: string, baseDir: string): Promise<string[]> {
  const segments = pattern.split("/").filter((s) => s !== "" && s !== ".");
  const absolute = pattern.startsWith("/");
  const found = new Set<string>();
  const walk = async (dir: string, i: number): Promise<void> => {
    if (i === segments.length) return;
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === "**") {
      await walk(dir, i + 1);
      for (const e of await entries(dir)) if (e.dir && !e.name.startsWith(".")) await walk(join(dir, e.name), i);
      return;
    }
    if (!hasMagic(seg)) {
      const next = join(dir, seg);
      if (!last) return walk(next, i + 1);
      const here = await entries(dir);
      if (here.some((e) => e.name === seg && !e.dir)) found.add(next);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of await entries(dir)) {
      if (!re.test(e.name) || (e.name.startsWith(".") && !seg.startsWith("."))) continue;
      if (last) {
        if (!e.dir) found.add(join(dir, e.name));
      } else if (e.dir) await walk(join(dir, e.name), i + 1);
    }
  };
  await walk(absolute ? "/" : baseDir, 0);
  return [...found].sort();
}
