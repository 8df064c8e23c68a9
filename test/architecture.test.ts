// The shape DESIGN.md and STYLE.md agree on, checked on the source itself: no import cycles (type
// imports included), no file over 300 lines, no dialect name compared outside the dialects'
// folders (and URL parsing), `machines/` importing only xstate, adapters never importing the machine.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

const FILES = [...sources(join(ROOT, "src")), ...sources(join(ROOT, "machines"))];
const rel = (path: string) => relative(ROOT, path);
const text = new Map(FILES.map((f) => [rel(f), readFileSync(f, "utf8")]));

/** Every relative import and re-export of a file, `import type` included, as repository paths. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const m of text.get(file)!.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)) {
    out.push(rel(resolve(ROOT, dirname(file), m[1]!)).replace(/\.js$/, ".ts"));
  }
  return out;
}

/** The strongly connected components of more than one file (Tarjan): each is an import cycle. */
function cycles(): string[][] {
  const graph = new Map([...text.keys()].map((f) => [f, importsOf(f).filter((d) => text.has(d))]));
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) !== idx.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      on.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe("the architecture", () => {
  it("has no import cycle in src/ and machines/, type imports included", () => {
    expect(cycles()).toEqual([]);
  });

  it("has no source file over 300 lines", () => {
    const long = [...text].filter(([, s]) => s.split("\n").length > 300).map(([f, s]) => `${f}: ${s.split("\n").length}`);
    expect(long).toEqual([]);
  });

  it("compares dialect names only inside the dialects' folders (and URL parsing)", () => {
    const allowed = (f: string) => f.startsWith("src/adapters/") || f === "src/url.ts" || f === "src/presets/jupyterhub/db-url.ts";
    const pattern = /\.dialect\s*[!=]==|dialect\s*[!=]==\s*"|case\s+"(sqlite|postgres|mysql)"/;
    const found = [...text].filter(([f, s]) => !allowed(f) && pattern.test(s)).map(([f]) => f);
    expect(found).toEqual([]);
  });

  it("keeps machines/ free of I/O (it imports xstate and itself only) and adapters away from the machine", () => {
    for (const [f, s] of text) {
      const external = [...s.matchAll(/from\s+"([^".][^"]*)"/g)].map((m) => m[1]);
      if (f.startsWith("machines/"))
        expect(
          external.filter((m) => m !== "xstate"),
          f,
        ).toEqual([]);
      if (f.startsWith("src/adapters/"))
        expect(
          importsOf(f).filter((d) => d.startsWith("machines/")),
          f,
        ).toEqual([]);
    }
  });

  it("the checks above can fail: a cycle and a long file are found when present", () => {
    text.set("src/zz-a.ts", 'import { b } from "./zz-b.js";\n');
    text.set("src/zz-b.ts", `import type { a } from "./zz-a.js";\n${"\n".repeat(301)}`);
    try {
      expect(cycles()).toContainEqual(["src/zz-a.ts", "src/zz-b.ts"]);
      expect([...text].some(([, s]) => s.split("\n").length > 300)).toBe(true);
    } finally {
      text.delete("src/zz-a.ts");
      text.delete("src/zz-b.ts");
    }
  });
});
