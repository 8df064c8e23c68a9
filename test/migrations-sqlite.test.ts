import { execFile } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createSqliteAdapter,
  createSqliteMigrationDriver,
  lockSqliteMigrations,
  type SqliteAdapter,
} from "../src/adapters/sqlite/index.js";
import { isUpgradeError, type UpgradeError } from "../src/errors.js";
import { readDrizzleFolder } from "../src/migrations/drizzle-folder.js";
import { planMigrations, runMigrations } from "../src/migrations/runner.js";
import type { Progress } from "../src/progress.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/migrations/blog", import.meta.url));
const CHILD = fileURLToPath(new URL("./contract/migrate-child.ts", import.meta.url));
const DRIZZLE_KIT = fileURLToPath(new URL("../node_modules/drizzle-kit/bin.cjs", import.meta.url));
const TAGS = ["0000_v1", "0001_v2", "0002_v3"];

let dir: string;
let adapters: SqliteAdapter[] = [];
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "um-migrate-"))));
afterEach(async () => {
  for (const a of adapters) await a.close();
  adapters = [];
  rmSync(dir, { recursive: true, force: true });
});

function adapter(path: string, create = true): SqliteAdapter {
  const a = createSqliteAdapter({ path, create });
  adapters.push(a);
  return a;
}

/** A copy of the fixture folder, its journal cut down to `tags`. */
function folder(name: string, tags: string[] = TAGS): string {
  const out = join(dir, name);
  cpSync(FIXTURE, out, { recursive: true });
  const journalPath = join(out, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => tags.includes(e.tag));
  writeFileSync(journalPath, JSON.stringify(journal, null, 2));
  return out;
}

async function caught(promise: Promise<unknown>): Promise<UpgradeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isUpgradeError(err)) throw new Error(`expected an UpgradeError, got ${String(err)}`);
  return err;
}

/** Runs the real `drizzle-kit migrate` with a config pointing at `db` and `out`. */
async function drizzleKitMigrate(db: string, out: string): Promise<string> {
  const cwd = mkdtempSync(join(dir, "kit-"));
  writeFileSync(
    join(cwd, "drizzle.config.ts"),
    `export default ${JSON.stringify({ dialect: "sqlite", out, dbCredentials: { url: db } })};\n`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, [DRIZZLE_KIT, "migrate", "--config", "drizzle.config.ts"], { cwd });
  return stdout;
}

/** drizzle-orm's own runtime `migrate()`, as an application calls it at start-up. */
function drizzleOrmMigrate(db: string, out: string): void {
  const sqlite = new Database(db);
  migrate(drizzle(sqlite), { migrationsFolder: out });
  sqlite.close();
}

function query(path: string, sql: string): unknown[] {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare(sql).all();
  db.close();
  return rows;
}

const COMMENTS = [
  { id: 1, post_id: 1, body: "a" },
  { id: 2, post_id: 1, body: "b" },
  { id: 3, post_id: 2, body: "c" },
];

/** A v1 database with posts and comments. */
async function v1WithData(path: string): Promise<void> {
  await runMigrations(adapter(path).migrationDriver(), folder("v1", ["0000_v1"]));
  new Database(path)
    .exec(`INSERT INTO posts (id, title) VALUES (1, 'hello'), (2, 'world');
    INSERT INTO comments (post_id, body) VALUES (1, 'a'), (1, 'b'), (2, 'c');`)
    .close();
}

describe("readDrizzleFolder", () => {
  it("reads what drizzle-orm reads, with the same hashes", async () => {
    const ours = await readDrizzleFolder(FIXTURE);
    const theirs = readMigrationFiles({ migrationsFolder: FIXTURE });
    expect(ours.map((m) => m.tag)).toEqual(TAGS);
    expect(ours.map((m) => [m.hash, m.when])).toEqual(theirs.map((m) => [m.hash, m.folderMillis]));
    expect(ours.map((m) => m.statements.length)).toEqual([2, 6, 2]);
    expect(ours[1]!.statements[0]).toBe("PRAGMA foreign_keys=OFF;");
  });

  it("explains a missing folder, journal or file, and a malformed journal", async () => {
    const read = (d: string) => caught(readDrizzleFolder(d));
    expect(await read(join(dir, "nope"))).toMatchObject({ code: "E_MIGRATION_FOLDER" });
    mkdirSync(join(dir, "empty"));
    expect(await read(join(dir, "empty"))).toMatchObject({
      code: "E_MIGRATION_FOLDER",
      hint: expect.stringMatching(/drizzle-kit generate/),
    });
    const bad = folder("bad");
    writeFileSync(join(bad, "meta", "_journal.json"), "{ not json");
    expect(await read(bad)).toMatchObject({ code: "E_MIGRATION_FOLDER" });
    writeFileSync(join(bad, "meta", "_journal.json"), JSON.stringify({ entries: [{ idx: 0, tag: "../x" }] }));
    expect(await read(bad)).toMatchObject({ code: "E_MIGRATION_FOLDER" });
    rmSync(join(bad, "0001_v2.sql"));
    writeFileSync(join(bad, "meta", "_journal.json"), readFileSync(join(FIXTURE, "meta", "_journal.json")));
    expect(await read(bad)).toMatchObject({ code: "E_MIGRATION_FOLDER", message: expect.stringContaining("0001_v2.sql") });
  });
});

describe("planMigrations", () => {
  const file = (idx: number, when: number, hash = `h${idx}`) => ({ idx, tag: `m${idx}`, when, hash, statements: [] });
  const files = [file(0, 100), file(1, 200), file(2, 300)];

  it("plans the unapplied entries in idx order", () => {
    const plan = planMigrations(files, [{ hash: "h0", createdAt: 100 }]);
    expect(plan.alreadyApplied.map((f) => f.tag)).toEqual(["m0"]);
    expect(plan.pending.map((f) => f.tag)).toEqual(["m1", "m2"]);
  });

  it("refuses edited, missing and out-of-order migrations", () => {
    expect(() => planMigrations(files, [{ hash: "edited", createdAt: 100 }])).toThrow(expect.objectContaining({ code: "E_CHECKSUM" }));
    expect(() => planMigrations(files, [{ hash: "h9", createdAt: 900 }])).toThrow(expect.objectContaining({ code: "E_MIGRATION_MISSING" }));
    expect(() => planMigrations(files, [{ hash: "h1", createdAt: 200 }])).toThrow(expect.objectContaining({ code: "E_MIGRATION_ORDER" }));
    expect(() => planMigrations([file(0, 100), file(1, 50)], [])).toThrow(expect.objectContaining({ code: "E_MIGRATION_ORDER" }));
  });
});

describe("runMigrations on SQLite", () => {
  it("applies every migration once, with progress, and a second run finds nothing", async () => {
    const path = join(dir, "app.sqlite");
    const driver = adapter(path).migrationDriver();
    const progress: Progress[] = [];
    const first = await runMigrations(driver, FIXTURE, { onProgress: (p) => progress.push(p) });
    expect(first).toEqual({ applied: TAGS, pending: [], alreadyApplied: [] });
    const tagsAtDone = [...TAGS, "0002_v3"].map((message, done) => ({ unit: "migrations", done, total: 3, message }));
    expect(progress).toEqual(tagsAtDone);
    expect(await runMigrations(driver, FIXTURE)).toEqual({ applied: [], pending: [], alreadyApplied: TAGS });
  });

  it("a dry run reports the plan and changes nothing", async () => {
    const path = join(dir, "app.sqlite");
    new Database(path).close();
    const db = adapter(path, false);
    const before = await db.fingerprint();
    expect(await runMigrations(db.migrationDriver(), FIXTURE, { dryRun: true })).toEqual({
      applied: [],
      pending: TAGS,
      alreadyApplied: [],
    });
    expect(await db.fingerprint()).toEqual(before);
  });

  it("agrees with drizzle-kit migrate: after ours, the real drizzle-kit applies nothing", async () => {
    const path = join(dir, "app.sqlite");
    const db = adapter(path);
    await runMigrations(db.migrationDriver(), FIXTURE);
    const ours = await db.fingerprint();
    await db.close();
    expect(await drizzleKitMigrate(path, FIXTURE)).toContain("migrations applied successfully");
    expect(await db.fingerprint()).toEqual(ours);
    expect(query(path, `SELECT id, hash, created_at FROM "__drizzle_migrations"`)).toEqual(
      readMigrationFiles({ migrationsFolder: FIXTURE }).map((m) => ({ id: null, hash: m.hash, created_at: m.folderMillis })),
    );
  });

  it("agrees with drizzle-kit migrate: after the real drizzle-kit and drizzle-orm, ours applies only the rest", async () => {
    const kitPath = join(dir, "kit.sqlite");
    await drizzleKitMigrate(kitPath, folder("first", ["0000_v1"]));
    expect(await runMigrations(adapter(kitPath).migrationDriver(), FIXTURE)).toEqual({
      applied: ["0001_v2", "0002_v3"],
      pending: [],
      alreadyApplied: ["0000_v1"],
    });

    const ormPath = join(dir, "orm.sqlite");
    drizzleOrmMigrate(ormPath, folder("first-two", ["0000_v1", "0001_v2"]));
    expect(await runMigrations(adapter(ormPath).migrationDriver(), FIXTURE)).toEqual({
      applied: ["0002_v3"],
      pending: [],
      alreadyApplied: ["0000_v1", "0001_v2"],
    });

    const oursPath = join(dir, "ours.sqlite");
    await runMigrations(adapter(oursPath).migrationDriver(), FIXTURE);
    const [kit, orm, ours] = await Promise.all([kitPath, ormPath, oursPath].map((p) => adapter(p).fingerprint()));
    expect([kit, orm]).toEqual([ours, ours]);
  });

  it("rebuilds a parent table without deleting the rows of its ON DELETE CASCADE children", async () => {
    const path = join(dir, "app.sqlite");
    await v1WithData(path);
    const conn = new Database(path);
    const driver = createSqliteMigrationDriver({ path, connection: async () => conn });
    expect(await runMigrations(driver, FIXTURE)).toMatchObject({ applied: ["0001_v2", "0002_v3"] });
    expect(conn.pragma("foreign_keys", { simple: true })).toBe(1);
    conn.close();
    expect(query(path, "SELECT id, post_id, body FROM comments ORDER BY id")).toEqual(COMMENTS);
    expect(query(path, "SELECT sql FROM sqlite_master WHERE name = 'posts'")[0]).toMatchObject({
      sql: expect.stringContaining("NOT NULL"),
    });
  });

  it("control: drizzle-orm's own migrate() on the same fixture really loses the child rows", async () => {
    const path = join(dir, "app.sqlite");
    await v1WithData(path);
    await adapters.pop()!.close();
    drizzleOrmMigrate(path, FIXTURE);
    expect(query(path, "SELECT count(*) AS n FROM comments")).toEqual([{ n: 0 }]);
    expect(query(path, "SELECT count(*) AS n FROM posts")).toEqual([{ n: 2 }]);
  });

  it("runs the rebuild even when a view names the rebuilt table", async () => {
    const path = join(dir, "app.sqlite");
    await v1WithData(path);
    const conn = new Database(path);
    conn.exec("CREATE VIEW titled AS SELECT id, title FROM posts");
    conn.close();
    expect(await runMigrations(adapter(path).migrationDriver(), FIXTURE)).toMatchObject({ applied: ["0001_v2", "0002_v3"] });
    expect(query(path, "SELECT count(*) AS n FROM titled")).toEqual([{ n: 2 }]);
  });

  it("refuses an edited applied migration (E_CHECKSUM) and runs nothing", async () => {
    const path = join(dir, "app.sqlite");
    await v1WithData(path);
    const db = adapter(path);
    const before = await db.fingerprint();
    const edited = folder("edited");
    appendFileSync(join(edited, "0000_v1.sql"), "\n-- a harmless-looking edit\n");
    const err = await caught(runMigrations(db.migrationDriver(), edited));
    expect(err).toMatchObject({ code: "E_CHECKSUM", message: expect.stringContaining("0000_v1") });
    expect(await db.fingerprint()).toEqual(before);
  });

  it("reports an older unapplied migration (E_MIGRATION_ORDER) instead of skipping it", async () => {
    const path = join(dir, "app.sqlite");
    const db = adapter(path);
    await runMigrations(db.migrationDriver(), folder("gap", ["0000_v1", "0002_v3"]));
    const before = await db.fingerprint();
    const err = await caught(runMigrations(db.migrationDriver(), FIXTURE));
    expect(err).toMatchObject({ code: "E_MIGRATION_ORDER", details: { tags: ["0001_v2"] } });
    expect(await db.fingerprint()).toEqual(before);
  });

  it("reports an applied migration the folder lacks (E_MIGRATION_MISSING)", async () => {
    const path = join(dir, "app.sqlite");
    const db = adapter(path);
    await runMigrations(db.migrationDriver(), FIXTURE);
    expect((await caught(runMigrations(db.migrationDriver(), folder("old", ["0000_v1"])))).code).toBe("E_MIGRATION_MISSING");
  });

  it("rolls a failing migration back completely, naming the statement", async () => {
    const path = join(dir, "app.sqlite");
    await v1WithData(path);
    const db = adapter(path);
    const before = await db.fingerprint();
    const broken = folder("broken");
    appendFileSync(join(broken, "0001_v2.sql"), "--> statement-breakpoint\nINSERT INTO no_such_table VALUES (1);");
    const err = await caught(runMigrations(db.migrationDriver(), broken));
    expect(err.code).toBe("E_MIGRATION_FAILED");
    expect(err.details).toStrictEqual({ tag: "0001_v2", statementIndex: 6, statement: "INSERT INTO no_such_table VALUES (1);" });
    expect(await db.fingerprint()).toEqual(before);
  });

  it("refuses a migration that leaves foreign key violations (E_FOREIGN_KEY) and rolls it back", async () => {
    const path = join(dir, "app.sqlite");
    await v1WithData(path);
    const db = adapter(path);
    const before = await db.fingerprint();
    const bad = folder("fk", ["0000_v1", "0001_v2"]);
    writeFileSync(
      join(bad, "0001_v2.sql"),
      "PRAGMA foreign_keys=OFF;--> statement-breakpoint\nDELETE FROM posts WHERE id = 1;--> statement-breakpoint\nPRAGMA foreign_keys=ON;",
    );
    const violation = { table: "comments", parent: "posts" };
    const err = await caught(runMigrations(db.migrationDriver(), bad));
    expect(err).toMatchObject({ code: "E_FOREIGN_KEY", details: { tag: "0001_v2", count: 2, violations: [violation, violation] } });
    expect(await db.fingerprint()).toEqual(before);
  });

  it("E_LOCKED when another process holds the lock past the timeout", async () => {
    const path = join(dir, "app.sqlite");
    const release = await lockSqliteMigrations(path, 0);
    try {
      expect((await caught(runMigrations(adapter(path).migrationDriver(), FIXTURE, { lockTimeoutMs: 200 }))).code).toBe("E_LOCKED");
    } finally {
      await release();
    }
  });

  it("two processes migrating the same file at once: both succeed, each migration applied exactly once", async () => {
    const path = join(dir, "app.sqlite");
    new Database(path).close();
    // Both processes start migrating at the same instant (a barrier), and the lock is held by
    // this process a little longer, so that both wait on it and race when it is released.
    // A slow first migration widens the window in which an unlocked runner would plan it twice.
    const slow = folder("slow");
    const filler =
      "CREATE TABLE filler AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x FROM c;";
    appendFileSync(join(slow, "0000_v1.sql"), `--> statement-breakpoint\n${filler}`);
    const startAt = Date.now() + 2500;
    const release = await lockSqliteMigrations(path, 0);
    const args = ["--import", import.meta.resolve("jiti/register"), CHILD, `sqlite:${path}`, slow, String(startAt)];
    // execFile rejects when a process exits non-zero: both must succeed.
    const run = async () =>
      JSON.parse((await promisify(execFile)(process.execPath, args)).stdout.trim().split("\n").at(-1)!) as Record<string, string[]>;
    const both = Promise.all([run(), run()]);
    await new Promise((r) => setTimeout(r, startAt + 200 - Date.now())).then(release);
    const results = await both;
    expect(results.flatMap((r) => r.applied!).sort()).toEqual(TAGS);
    expect(results.map((r) => r.alreadyApplied!.length).sort()).toEqual([0, 3]);
    expect(query(path, `SELECT count(*) AS n FROM "__drizzle_migrations"`)).toEqual([{ n: 3 }]);
  });
});
