import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { exitCodeOf } from "../src/cli/main.js";
import { REFERENCE_MARKERS, withCurrentReference } from "../src/cli/readme.js";
import { ERROR_CODES, EXIT, exitCodeFor, type ErrorCode } from "../src/error-codes.js";
import { UpgradeError } from "../src/errors.js";
import { ROOT } from "./helpers/example.js";

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

const files = [...sources(join(ROOT, "src")), ...sources(join(ROOT, "machines"))];

describe("the error table", () => {
  it("holds every code the source uses, each with an exit code and a one-line meaning", () => {
    const used = new Map<string, string>();
    for (const file of files) {
      for (const [, code] of readFileSync(file, "utf8").matchAll(/["'`](E_[A-Z][A-Z_]*)["'`]/g)) used.set(code!, relative(ROOT, file));
    }
    expect(used.size).toBeGreaterThan(20);
    for (const [code, file] of used)
      expect(Object.keys(ERROR_CODES), `${code} (used in ${file}) is not in src/error-codes.ts`).toContain(code);
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(Object.keys(EXIT), code).toContain(info.exit);
      expect(info.meaning, code).toMatch(/^[^\n]{10,200}$/);
    }
  });

  it("keeps the CLI's exit codes: 2 usage or config, 4 busy, 1 a refusal of preflight or of the lint, 3 everything else", () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      E_USAGE: 2,
      E_CONFIG: 2,
      E_URL: 2,
      E_NOT_FOUND: 2,
      E_MIGRATION_FOLDER: 2,
      E_BUSY: 4,
      E_UNFINISHED: 4,
      E_PREFLIGHT: 1,
      E_LINT_DESTRUCTIVE: 1,
      E_LINT_WILL_FAIL: 1,
    };
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      expect(exitCodeFor(code), code).toBe(expected[code] ?? 3);
      // the CLI reads the table: an UpgradeError with the code ends the command with its exit code
      expect(exitCodeOf(new UpgradeError(code, "x")), code).toBe(expected[code] ?? 3);
    }
    expect(exitCodeOf(new TypeError("a bug"))).toBe(exitCodeFor("E_INTERNAL"));
  });

  it("no raw Error is thrown in src/ outside the testing harness: every failure that reaches a step or the CLI is coded", () => {
    const raw = files
      .filter((f) => !relative(ROOT, f).startsWith("src/testing/"))
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => [`${relative(ROOT, f)}:${i + 1}`, line] as const),
      )
      .filter(([, line]) => /\bnew (Type|Range)?Error\(/.test(line));
    expect(raw.map(([at, line]) => `${at}: ${line.trim()}`)).toEqual([]);
  });
});

describe("the README's CLI and error reference", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");

  it("is current: the help made from the commands' declarations and the error table (npm run reference rewrites it)", () => {
    for (const { start, end } of Object.values(REFERENCE_MARKERS)) {
      expect(readme).toContain(start);
      expect(readme).toContain(end);
    }
    expect(withCurrentReference(readme), "the README's reference is stale: run `npm run reference`").toBe(readme);
    for (const code of Object.keys(ERROR_CODES)) expect(readme).toContain(`| \`${code}\` |`);
  });

  it("the check notices a stale copy and the rewrite touches nothing else", () => {
    const stale = `# x\n\nbefore\n${REFERENCE_MARKERS.cli.start}\nold help\n${REFERENCE_MARKERS.cli.end}\nmiddle\n${REFERENCE_MARKERS.errors.start}\n| \`E_OLD\` | 9 | gone |\n${REFERENCE_MARKERS.errors.end}\nafter\n`;
    const fresh = withCurrentReference(stale);
    expect(fresh).not.toBe(stale);
    expect(fresh).not.toContain("E_OLD");
    expect(fresh).toContain("| `E_INTERNAL` | 3 |");
    expect(fresh.startsWith(`# x\n\nbefore\n${REFERENCE_MARKERS.cli.start}\n`)).toBe(true);
    expect(fresh).toContain(`${REFERENCE_MARKERS.cli.end}\nmiddle\n${REFERENCE_MARKERS.errors.start}\n`);
    expect(fresh.endsWith(`${REFERENCE_MARKERS.errors.end}\nafter\n`)).toBe(true);
    expect(withCurrentReference(fresh)).toBe(fresh);
    expect(() => withCurrentReference("# no markers\n")).toThrow(/E_NOT_FOUND|no "<!-- cli:start -->"/);
  });
});
