// The lint step in runs on a real SQLite database, through the API: a migration that will fail
// on the data aborts before the announcement with the counts in words; --allow-destructive
// survives a crash and resume (it is journaled with the request); the config can allow
// destructive migrations or turn the lint off.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { history, resume, upgrade } from "../src/api.js";
import type { UpgradeConfig } from "../src/config/types.js";
import { validateConfig } from "../src/config/validate.js";
import { SimulatedCrash } from "../src/runner/runner.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A SQLite database at migration 0000 with data, a folder whose 0001 is `pending`, and a config. */
function prepare(pending: string, extra: Partial<UpgradeConfig> = {}): { dir: string; config: UpgradeConfig } {
  mkdirSync("/tmp/h12l", { recursive: true });
  const dir = mkdtempSync("/tmp/h12l/step-");
  dirs.push(dir);
  const init = "CREATE TABLE authors (id integer PRIMARY KEY, name text, bio text);";
  const entries = ["0000_init", "0001_next"].map((tag, idx) => ({
    idx,
    version: "6",
    when: 1_700_000_000_000 + idx,
    tag,
    breakpoints: true,
  }));
  mkdirSync(join(dir, "drizzle", "meta"), { recursive: true });
  writeFileSync(join(dir, "drizzle", "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "sqlite", entries }));
  writeFileSync(join(dir, "drizzle", "0000_init.sql"), init);
  writeFileSync(join(dir, "drizzle", "0001_next.sql"), pending);
  const db = new Database(join(dir, "app.sqlite"));
  db.exec(init);
  db.exec(`CREATE TABLE "__drizzle_migrations" (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)`);
  const hash = createHash("sha256").update(init).digest("hex");
  db.prepare(`INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)`).run(hash, 1_700_000_000_000);
  db.exec("INSERT INTO authors (id, name, bio) VALUES (1, 'ann', 'x'), (2, NULL, 'y'), (3, NULL, NULL)");
  db.close();
  writeFileSync(join(dir, "announce.sh"), `#!/bin/sh\necho announced >> "${join(dir, "announced")}"\n`);
  chmodSync(join(dir, "announce.sh"), 0o755);
  const config: UpgradeConfig = {
    name: "lint-step",
    database: "sqlite:./app.sqlite",
    migrations: { drizzle: "./drizzle" },
    announce: { command: ["./announce.sh"], graceSeconds: 0 },
    ...extra,
  };
  return { dir, config };
}

const REBUILD_NOT_NULL = [
  "PRAGMA foreign_keys=OFF;",
  "CREATE TABLE `__new_authors` (`id` integer PRIMARY KEY, `name` text NOT NULL, `bio` text);",
  'INSERT INTO `__new_authors`("id", "name", "bio") SELECT "id", "name", "bio" FROM `authors`;',
  "DROP TABLE `authors`;",
  "ALTER TABLE `__new_authors` RENAME TO `authors`;",
  "PRAGMA foreign_keys=ON;",
].join("--> statement-breakpoint\n");

describe("the lint step in a run", () => {
  it("aborts a migration that will fail on the data before the announcement, with the table, the column and the count in words", async () => {
    const { dir, config } = prepare(REBUILD_NOT_NULL);
    const result = await upgrade(config, { cwd: dir, allowDestructive: true });
    expect(result.state).toBe("aborted");
    expect(result.failure?.step).toBe("lint");
    expect(result.failure?.error.code).toBe("E_LINT_WILL_FAIL");
    expect(result.failure?.error.message).toBe(
      "a pending migration will fail on this data: 0001_next: the rebuild makes authors.name NOT NULL, but 2 rows hold NULL there",
    );
    expect(existsSync(join(dir, "announced"))).toBe(false);
  });

  it("keeps --allow-destructive across a crash and a resume (journaled with the request)", async () => {
    const { dir, config } = prepare("ALTER TABLE `authors` DROP COLUMN `bio`;");
    const crash = (e: { type: string; step?: string | null }) => {
      if (e.type === "step.started" && e.step === "lint") throw new SimulatedCrash();
    };
    await expect(upgrade(config, { cwd: dir, allowDestructive: true, afterAppend: crash, leaseTtlMs: 300 })).rejects.toThrow(
      SimulatedCrash,
    );
    await new Promise((r) => setTimeout(r, 400)); // the crashed driver's lease expires
    const result = await resume(config, { cwd: dir });
    expect(result.state).toBe("completed");
    const { events } = await history(config, { cwd: dir });
    expect(events.filter((e) => e.step === "lint").map((e) => e.type)).toEqual(["step.started", "step.started", "step.succeeded"]);
    const db = new Database(join(dir, "app.sqlite"), { readonly: true });
    expect((db.pragma("table_info(authors)") as { name: string }[]).map((c) => c.name)).toEqual(["id", "name"]);
    db.close();
  });

  it('goes on with "lint": {"destructive": "allow"}, and refuses without it', async () => {
    const refused = prepare("ALTER TABLE `authors` DROP COLUMN `bio`;");
    const r1 = await upgrade(refused.config, { cwd: refused.dir });
    expect([r1.state, r1.failure?.error.code]).toEqual(["aborted", "E_LINT_DESTRUCTIVE"]);
    const allowed = prepare("ALTER TABLE `authors` DROP COLUMN `bio`;", { lint: { destructive: "allow" } });
    expect((await upgrade(allowed.config, { cwd: allowed.dir })).state).toBe("completed");
  });

  it('is skipped with "lint": false', async () => {
    const { dir, config } = prepare("ALTER TABLE `authors` DROP COLUMN `bio`;", { lint: false });
    const result = await upgrade(config, { cwd: dir });
    expect(result.state).toBe("completed");
    const { events } = await history(config, { cwd: dir });
    expect(events.find((e) => e.step === "lint")?.payload.skipped).toBe('"lint": false in the config');
  });

  it("refuses a lint config it does not know, naming the field", () => {
    const base = { name: "x", database: "sqlite:./x.sqlite" };
    expect(() => validateConfig({ ...base, lint: { destructive: "maybe" } })).toThrow('lint.destructive must be "refuse" or "allow"');
    expect(() => validateConfig({ ...base, lint: true })).toThrow("lint must be false or an object");
    expect(() => validateConfig({ ...base, lint: { largeTableBytes: -1 } })).toThrow("lint.largeTableBytes must be an integer");
    expect(validateConfig({ ...base, lint: false })).toMatchObject({ lint: false });
  });
});
