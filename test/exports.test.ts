import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/example.js";

const driverCount = (entry: string, esm: boolean) => {
  const script = esm
    ? `import { createRequire } from "node:module"; const r = createRequire(import.meta.url); await import(${JSON.stringify(entry)}); process.stdout.write(String(Object.keys(r.cache).filter((k) => /node_modules\\/(better-sqlite3|postgres|mysql2)\\//.test(k)).length));`
    : `require(${JSON.stringify(entry)}); process.stdout.write(String(Object.keys(require.cache).filter((k) => /node_modules\\/(better-sqlite3|postgres|mysql2)\\//.test(k)).length));`;
  return Number(execFileSync(process.execPath, esm ? ["--input-type=module", "-e", script] : ["-e", script], { cwd: "/tmp" }).toString());
};

describe("the built package", () => {
  for (const esm of [true, false]) {
    it(`${esm ? "ESM" : "CJS"}: importing the core and the machine loads no database driver`, () => {
      for (const entry of ["index", "machine", "sqlite", "postgres", "mysql", "testing"]) {
        expect(driverCount(join(ROOT, "dist", `${entry}.${esm ? "js" : "cjs"}`), esm), entry).toBe(0);
      }
    });
  }

  it("the control: opening a SQLite database does load better-sqlite3", () => {
    const script = `const { createSqliteAdapter } = require(${JSON.stringify(join(ROOT, "dist/sqlite.cjs"))});
      const a = createSqliteAdapter({ path: require("node:path").join(require("node:os").tmpdir(), "um-exports-" + process.pid + ".sqlite"), create: true });
      a.fingerprint().finally(() => { process.stdout.write(String(Object.keys(require.cache).filter((k) => /node_modules\\/better-sqlite3\\//.test(k)).length)); a.close(); });`;
    expect(Number(execFileSync(process.execPath, ["-e", script], { cwd: "/tmp" }).toString())).toBeGreaterThan(0);
  });

  it("exports the public API from the root entry point", async () => {
    const m = await import(join(ROOT, "dist/index.js"));
    for (const name of [
      "upgrade",
      "resume",
      "status",
      "history",
      "plan",
      "restore",
      "pruneBackups",
      "listBackups",
      "defineUpgrade",
      "upgradeMachine",
      "foldJournal",
      "runMigrations",
      "UpgradeError",
    ]) {
      expect(typeof m[name], name).not.toBe("undefined");
    }
  });
});
