// How backupSqlite copies (src/adapters/sqlite/backup.ts) and the racy-timestamp rule
// (src/fs/stamp.ts): a byte copy hashed in the same pass only when a read transaction holds the
// file still, the online backup API otherwise; both equal the database.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteAdapter, SQLITE_BACKUP_FORMAT, SQLITE_FILE_COPY_FORMAT, type SqliteAdapter } from "../src/adapters/sqlite/index.js";
import { racyWaitMs, type FileStamp } from "../src/fs/stamp.js";

let dir: string;
let path: string;
const open: Database.Database[] = [];
const adapters: SqliteAdapter[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "um-sa-copy-"));
  path = join(dir, "db.sqlite");
});
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function service(mode: "wal" | "delete"): Database.Database {
  const db = new Database(path);
  open.push(db);
  db.pragma(`journal_mode = ${mode}`);
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run(`row ${i} ${"z".repeat(300)}`);
  })();
  return db;
}

function adapter(): SqliteAdapter {
  const a = createSqliteAdapter({ path });
  adapters.push(a);
  return a;
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("backupSqlite chooses how to copy", () => {
  it("WAL with frames not in the file: the online backup API, equal to the database", async () => {
    service("wal");
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    const a = adapter();
    const art = await a.hotBackup(dir, "hot");
    if ("skipped" in art) throw new Error(art.skipped);
    expect(art.format).toBe(SQLITE_BACKUP_FORMAT);
    expect(art.sha256).toBe(sha256(art.path));
    expect(await a.fingerprintBackup(art)).toEqual(await a.fingerprint());
  });

  it("WAL emptied (as the change mark's checkpoint leaves it): a byte copy hashed in the same pass, equal to the database", async () => {
    const svc = service("wal");
    svc.pragma("wal_checkpoint(TRUNCATE)");
    const a = adapter();
    const art = await a.hotBackup(dir, "hot");
    if ("skipped" in art) throw new Error(art.skipped);
    expect(art.format).toBe(SQLITE_FILE_COPY_FORMAT);
    expect(art.sha256).toBe(sha256(art.path));
    expect(art.sha256).toBe(sha256(path)); // the file itself, byte for byte
    expect(statSync(art.path).mode & 0o777).toBe(0o600);
    expect(await a.fingerprintBackup(art)).toEqual(await a.fingerprint());
    svc.prepare("UPDATE t SET v = 'after' WHERE id = 1").run(); // the service writes on: nothing was held
  });

  it("rollback journal: the hot backup never holds writers for a whole copy (backup API); the copy after the stop is a byte copy", async () => {
    service("delete").close();
    const a = adapter();
    const hot = await a.hotBackup(dir, "hot");
    if ("skipped" in hot) throw new Error(hot.skipped);
    expect(hot.format).toBe(SQLITE_BACKUP_FORMAT);
    const sealed = await a.backup(dir, "sealed");
    expect(sealed.format).toBe(SQLITE_FILE_COPY_FORMAT);
    expect(sealed.sha256).toBe(sha256(path));
    expect(await a.fingerprintBackup(sealed)).toEqual(await a.fingerprintBackup(hot));
  });
});

describe("the racy-timestamp rule", () => {
  const stamp = (ns: bigint): FileStamp => ({ dev: "1", ino: "2", size: "3", mtimeNs: String(ns), ctimeNs: String(ns) });
  const T = 1_800_000_000_123_456_789n;

  it("a file written within 100 ms of the clock read before its stat is waited out", () => {
    expect(racyWaitMs(T, [stamp(T - 40_000_000n)])).toBe(61);
    expect(racyWaitMs(T, [stamp(T)])).toBe(101);
    expect(racyWaitMs(T, [stamp(T - 200_000_000n), stamp(T - 1_000_000n)])).toBe(100); // the newest file counts
  });

  it("a file older than the margin (or absent) needs no wait", () => {
    expect(racyWaitMs(T, [stamp(T - 100_000_000n)])).toBe(0);
    expect(racyWaitMs(T, [null])).toBe(0);
  });

  it("a file system of whole seconds gets a 2.1 s margin", () => {
    const whole = T - (T % 1_000_000_000n) - 1_000_000_000n; // one second before, sub-second part 0
    expect(racyWaitMs(T, [stamp(whole)])).toBeGreaterThan(900);
    expect(racyWaitMs(T, [stamp(whole - 2_000_000_000n)])).toBe(0);
  });
});
