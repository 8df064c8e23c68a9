// The lint step through the CLI on each dialect: a pending migration that drops a column full of
// data refuses the run before the announcement (exit 1, aborted, no announce or stop in the
// journal, the database unchanged); the same run with --allow-destructive completes. `plan` shows
// the finding per migration, in text and in --json.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAdapter } from "../src/adapters/registry.js";
import { history } from "../src/api.js";
import { runMigrations } from "../src/migrations/runner.js";
import { parseDatabaseUrl } from "../src/url.js";
import { cli } from "./helpers/cli.js";
import { createScratchDatabase, serverAvailable, type ScratchDatabase } from "./helpers/servers.js";

const MIGRATIONS = {
  "0000_init": "CREATE TABLE posts (id integer PRIMARY KEY, title varchar(50) NOT NULL, body varchar(200));",
  "0001_drop_body": "ALTER TABLE posts DROP COLUMN body;",
};

/** A drizzle-kit folder holding `tags` of MIGRATIONS. */
function folder(dir: string, tags: (keyof typeof MIGRATIONS)[]): string {
  mkdirSync(join(dir, "meta"), { recursive: true });
  const entries = tags.map((tag, idx) => ({ idx, version: "7", when: 1_700_000_000_000 + idx, tag, breakpoints: true }));
  writeFileSync(join(dir, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "x", entries }));
  for (const tag of tags) writeFileSync(join(dir, `${tag}.sql`), MIGRATIONS[tag]);
  return dir;
}

async function journalOf(config: string): Promise<string[]> {
  return (await history(config)).events.map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}

function e2e(name: string, database: () => Promise<{ url: string; drop(): Promise<void> }>) {
  describe(`the lint step through the CLI on ${name}`, () => {
    let dir: string;
    let config: string;
    let db: { url: string; drop(): Promise<void> };
    const fingerprint = async () => {
      const a = await openAdapter(parseDatabaseUrl(db.url, dir));
      try {
        return (await a.fingerprint()).hash;
      } finally {
        await a.close();
      }
    };
    beforeAll(async () => {
      mkdirSync("/tmp/h12l", { recursive: true });
      dir = mkdtempSync("/tmp/h12l/e2e-");
      db = await database();
      const adapter = await openAdapter(parseDatabaseUrl(db.url, dir));
      try {
        await runMigrations(adapter.migrationDriver(), folder(join(dir, "v1"), ["0000_init"]));
      } finally {
        await adapter.close();
      }
      const { execSql } = await import("./helpers/servers.js");
      const rows = "INSERT INTO posts (id, title, body) VALUES (1, 'a', 'text'), (2, 'b', NULL), (3, 'c', 'more')";
      if (db.url.startsWith("sqlite:")) {
        const Database = (await import("better-sqlite3")).default;
        const raw = new Database(db.url.slice("sqlite:".length));
        raw.exec(rows);
        raw.close();
      } else await execSql(db.url.startsWith("postgres") ? "postgres" : "mysql", db.url, [rows]);
      folder(join(dir, "v2"), ["0000_init", "0001_drop_body"]);
      writeFileSync(join(dir, "announce.sh"), `#!/bin/sh\necho announced >> "${join(dir, "announced")}"\n`);
      chmodSync(join(dir, "announce.sh"), 0o755);
      config = join(dir, "upgrade.json");
      writeFileSync(
        config,
        JSON.stringify({
          name: "lint-e2e",
          database: db.url,
          migrations: { drizzle: "./v2" },
          stateDir: "./state",
          announce: { command: ["./announce.sh"], graceSeconds: 0 },
        }),
      );
    });
    afterAll(async () => {
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("plan shows the finding of the pending migration, in text and in --json, and changes nothing", async () => {
      const before = await fingerprint();
      const text = await cli(["plan", "--config", config]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain("0001_drop_body:\n    #0 [destructive drop-column] DROP COLUMN posts.body destroys 2 non-null values");
      const json = await cli(["plan", "--config", config, "--json"]);
      expect(json.lines[0].lint.migrations).toEqual([
        {
          migration: "0001_drop_body",
          findings: [
            expect.objectContaining({ rule: "drop-column", kind: "destructive", table: "posts", column: "body", values: 2, statement: 0 }),
          ],
        },
      ]);
      expect(await fingerprint()).toBe(before);
    });

    it("refuses the destructive migration before the announcement: exit 1, aborted, no announce or stop, the database unchanged", async () => {
      const before = await fingerprint();
      const r = await cli(["run", "--config", config]);
      expect(r.code).toBe(1);
      expect(`${r.stdout}${r.stderr}`).toContain("E_LINT_DESTRUCTIVE");
      expect(`${r.stdout}${r.stderr}`).toContain("DROP COLUMN posts.body destroys 2 non-null values");
      const events = await journalOf(config);
      expect(events).toContain("step.failed:lint");
      expect(events[events.length - 1]).toBe("run.aborted");
      expect(events.filter((e) => /:(announce|stop|seal|migrate)$/.test(e))).toEqual([]);
      expect(existsSync(join(dir, "announced"))).toBe(false);
      expect(await fingerprint()).toBe(before);
    });

    it("completes the same run with --allow-destructive, the column dropped", async () => {
      const r = await cli(["run", "--config", config, "--allow-destructive", "--json"]);
      expect(r.code).toBe(0);
      const { result, events } = await history(config);
      expect(result?.state).toBe("completed");
      expect(events[0]?.payload.allowDestructive).toBe(true);
      const lint = events.find((e) => e.type === "step.succeeded" && e.step === "lint")?.payload.output as {
        findings: { values: number }[];
        source: string;
      };
      expect(lint.findings.map((f) => f.values)).toEqual([2]);
      if (name === "SQLite") expect(lint.source).toMatch(/^the hot backup .*database-hot/);
      expect(existsSync(join(dir, "announced"))).toBe(true);
      const a = await openAdapter(parseDatabaseUrl(db.url, dir));
      const snapshot = await a.readSnapshot(null);
      try {
        expect((await snapshot.columns("posts")).map((c) => c.name)).toEqual(["id", "title"]);
        expect(await snapshot.count("SELECT COUNT(*) FROM posts")).toBe(3);
      } finally {
        await snapshot.close();
        await a.close();
      }
    });
  });
}

e2e("SQLite", async () => {
  mkdirSync("/tmp/h12l", { recursive: true });
  const d = mkdtempSync("/tmp/h12l/sqlite-");
  const path = join(d, "app.sqlite");
  const Database = (await import("better-sqlite3")).default;
  new Database(path).close();
  return { url: `sqlite:${path}`, drop: async () => rmSync(d, { recursive: true, force: true }) };
});
for (const d of ["postgres", "mysql"] as const) {
  if (await serverAvailable(d)) {
    e2e(d === "postgres" ? "PostgreSQL" : "MariaDB", async (): Promise<ScratchDatabase> => createScratchDatabase(d, "um_lint"));
  }
}
