// SQLite's change mark (src/adapters/sqlite/change-mark.ts) on real files: after a mark, every
// kind of write by another connection is seen by sinceMark (none is taken for "unchanged"),
// while what changes files without changing content in the one way the proof accepts (a WAL
// removed by a clean close after a complete checkpoint) is still "unchanged".
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteAdapter, type SqliteAdapter, type SqliteMark } from "../src/adapters/sqlite/index.js";
import type { ChangeMark } from "../src/adapters/types.js";

const WRITER = fileURLToPath(new URL("./fixtures/sqlite/writer.cjs", import.meta.url));

let dir: string;
let path: string;
const open: Database.Database[] = [];
const adapters: SqliteAdapter[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "um-sa-mark-"));
  path = join(dir, "db.sqlite");
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const a of adapters.splice(0)) await a.close();
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A connection of "the service", in WAL mode unless told otherwise, on a seeded database. */
function service(mode: "wal" | "delete" = "wal"): Database.Database {
  const db = new Database(path);
  open.push(db);
  db.pragma(`journal_mode = ${mode}`);
  db.exec("CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, n INTEGER)");
  if ((db.prepare("SELECT count(*) AS n FROM posts").get() as { n: number }).n === 0) {
    const insert = db.prepare("INSERT INTO posts (title, n) VALUES (?, ?)");
    db.transaction(() => {
      for (let i = 0; i < 500; i++) insert.run(`post ${i} ${"x".repeat(100)}`, i);
    })();
  }
  return db;
}

function adapter(): SqliteAdapter {
  const a = createSqliteAdapter({ path });
  adapters.push(a);
  return a;
}

async function mark(a: SqliteAdapter): Promise<SqliteMark> {
  const m = await a.changeMark();
  if (!("how" in m)) throw new Error(`no mark: ${m.skipped}`);
  return m as SqliteMark;
}

const count = (db: Database.Database) => (db.prepare("SELECT count(*) AS n FROM posts").get() as { n: number }).n;

describe("SQLite change mark: every write after the mark is seen", () => {
  // [what, journal mode, rows added, the write]
  const writes: [string, "wal" | "delete", number, (db: Database.Database) => void][] = [
    ["an insert", "wal", 1, (db) => db.prepare("INSERT INTO posts (title, n) VALUES ('new', 1)").run()],
    ["an UPDATE that leaves the row count unchanged", "wal", 0, (db) => db.prepare("UPDATE posts SET n = n + 1 WHERE id = 7").run()],
    [
      "a delete and an insert of the same count",
      "wal",
      0,
      (db) =>
        db.transaction(() => {
          db.prepare("DELETE FROM posts WHERE id = 3").run();
          db.prepare("INSERT INTO posts (id, title, n) VALUES (3, 'other', 3)").run();
        })(),
    ],
    ["a DDL statement", "wal", 0, (db) => db.exec("CREATE INDEX posts_n ON posts (n)")],
    ["an UPDATE in rollback-journal mode", "delete", 0, (db) => db.prepare("UPDATE posts SET title = 'changed' WHERE id = 1").run()],
    ["an insert in rollback-journal mode", "delete", 1, (db) => db.prepare("INSERT INTO posts (title, n) VALUES ('new', 1)").run()],
  ];
  for (const [what, mode, added, write] of writes) {
    it(`${what} (${mode === "wal" ? "WAL" : "rollback journal"})`, async () => {
      const svc = service(mode);
      const a = adapter();
      const m = await mark(a);
      svc.prepare("SELECT * FROM posts WHERE id < 50").all(); // reads change nothing
      expect(await a.sinceMark(m)).toEqual({ unchanged: true });
      const rows = count(svc);
      write(svc);
      expect(count(svc)).toBe(rows + added);
      const check = await a.sinceMark(m);
      expect(check.unchanged).toBe(false);
      expect(check).toMatchObject({ why: expect.any(String) });
    });
  }

  it("a write that overwrites stale WAL frames after a WAL reset, without growing the WAL file", async () => {
    const svc = service("wal");
    svc.pragma("wal_autocheckpoint = 0");
    const update = svc.prepare("UPDATE posts SET title = ? WHERE id = ?");
    svc.transaction(() => {
      for (let i = 1; i <= 200; i++) update.run(`rewritten ${i} ${"y".repeat(200)}`, i);
    })();
    // A reader on the newest snapshot: the mark's checkpoint copies every frame into the
    // database file but cannot empty the WAL, so the WAL keeps its (now stale) frames.
    const reader = new Database(path);
    open.push(reader);
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM posts").get();
    const a = adapter();
    const m = await mark(a);
    expect(m.wal).not.toBeNull();
    expect(Number(m.wal!.size)).toBeGreaterThan(32);
    expect(m.walBackfilled).toBe(true);
    reader.exec("COMMIT");
    reader.close();
    const walBefore = readHead(`${path}-wal`, 32);
    update.run("after the reset", 300); // the writer restarts the WAL from its start
    expect(statSync(`${path}-wal`).size).toBe(Number(m.wal!.size));
    expect(readHead(`${path}-wal`, 32).equals(walBefore)).toBe(false);
    expect(await a.sinceMark(m)).toMatchObject({ unchanged: false });
  });

  it("an UPDATE made in the same millisecond as the mark", async () => {
    const svc = service("wal");
    const a = adapter();
    const update = svc.prepare("UPDATE posts SET n = n + 1 WHERE id = 9");
    const m = await mark(a);
    update.run();
    expect(await a.sinceMark(m)).toMatchObject({ unchanged: false });
  });

  it("a same-size overwrite of a page by a non-SQLite writer in the same millisecond as the mark (only the times can tell)", async () => {
    const svc = service("delete");
    svc.close();
    const a = adapter();
    const fd = openSync(path, "r+");
    try {
      const page = Buffer.alloc(16);
      readSync(fd, page, 0, 16, 4096 + 2000);
      const m = await mark(a);
      page[0] = (page[0]! + 1) % 256;
      writeSync(fd, page, 0, 16, 4096 + 2000); // same size, header and change counter untouched
      expect(statSync(path).size).toBe(Number(m.db.size));
      expect(readHead(path, 28).readUInt32BE(24)).toBe(m.db.changeCounter);
      expect(await a.sinceMark(m)).toMatchObject({ unchanged: false });
    } finally {
      closeSync(fd);
    }
  });

  it("a database replaced by a copy of itself (same size, same content: another file)", async () => {
    service("delete").close();
    const a = adapter();
    const m = await mark(a);
    const copy = join(dir, "copy.sqlite");
    const src = new Database(path, { readonly: true });
    await src.backup(copy);
    src.close();
    rmSync(path);
    const { renameSync } = await import("node:fs");
    renameSync(copy, path);
    expect(await a.sinceMark(m)).toMatchObject({ unchanged: false });
  });
});

describe("SQLite change mark: unchanged only when proven", () => {
  it("nothing written, while the service reads and other connections open and close: unchanged", async () => {
    const svc = service("wal");
    const a = adapter();
    const m = await mark(a);
    const other = new Database(path);
    other.prepare("SELECT sum(n) FROM posts").get();
    other.close();
    svc.prepare("SELECT * FROM posts").all();
    expect(await a.sinceMark(m)).toEqual({ unchanged: true });
  });

  it("a WAL deleted by the last connection's clean close, after a complete checkpoint: unchanged", async () => {
    const svc = service("wal");
    svc.pragma("wal_autocheckpoint = 0");
    svc.prepare("UPDATE posts SET n = 0 WHERE id < 100").run();
    const reader = new Database(path);
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM posts").get(); // keeps the WAL from being emptied
    const a = adapter();
    const m = await mark(a);
    expect(m.wal && Number(m.wal.size)).toBeGreaterThan(0);
    expect(m.walBackfilled).toBe(true);
    reader.exec("COMMIT");
    reader.close();
    await a.close(); // the orchestrator's connection closes: the service's is the last one
    svc.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(await a.sinceMark(m)).toEqual({ unchanged: true });
  });

  it("a WAL deleted while it held frames not yet in the database file: changed", async () => {
    const svc = service("wal");
    svc.pragma("wal_autocheckpoint = 0");
    const reader = new Database(path);
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM posts").get(); // an old snapshot: frames after it cannot be backfilled
    svc.prepare("UPDATE posts SET n = -1 WHERE id < 100").run();
    const a = adapter();
    const m = await mark(a);
    expect(m.walBackfilled).toBe(false);
    reader.exec("COMMIT");
    reader.close();
    await a.close();
    svc.close(); // the last close checkpoints (writing the database file) and deletes the WAL
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(await a.sinceMark(m)).toMatchObject({ unchanged: false });
  });

  it("a mark from another adapter is never taken as proof", async () => {
    service("wal");
    const a = adapter();
    const foreign: ChangeMark = { how: "postgres: the WAL insert position", lsn: "0/0" };
    expect(await a.sinceMark(foreign)).toMatchObject({ unchanged: false });
  });

  it("a database written all the time gets no mark (the racy-timestamp rule never settles)", async () => {
    const seed = new Database(path);
    seed.pragma("journal_mode = WAL");
    seed.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)");
    seed.prepare("INSERT INTO accounts (balance) SELECT 100 FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)").run();
    seed.close();
    const child = spawn(process.execPath, [WRITER, path, "transfers"], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    const m = await adapter().changeMark();
    expect(m).toEqual({ skipped: "the database is being written" });
  });
});

function readHead(file: string, bytes: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    readSync(fd, buf, 0, bytes, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}
