import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
  mkdirSync,
  chmodSync,
  lstatSync,
  readlinkSync,
  renameSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteAdapter, type SqliteAdapter } from "../src/adapters/sqlite/index.js";
import { isUpgradeError } from "../src/errors.js";
import type { Progress } from "../src/progress.js";

const WRITER = fileURLToPath(new URL("./fixtures/sqlite/writer.cjs", import.meta.url));

let dir: string;
const adapters: SqliteAdapter[] = [];
const children: ChildProcess[] = [];

beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "um-sqlite-"))));
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const adapter of adapters.splice(0)) await adapter.close();
  rmSync(dir, { recursive: true, force: true });
});

function adapter(path: string): SqliteAdapter {
  const a = createSqliteAdapter({ path });
  adapters.push(a);
  return a;
}

/** A database with every SQLite storage class, a WITHOUT ROWID table and a table without a primary key. */
function seed(path: string, wal = false): void {
  const db = new Database(path);
  if (wal) db.pragma("journal_mode = WAL");
  db.exec(`
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, big INTEGER, data BLOB, note TEXT);
    CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
    CREATE TABLE log (line TEXT);
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
    CREATE INDEX items_name ON items (name);
    CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;
    INSERT INTO kv VALUES ('a', 1), ('b', '1');
    INSERT INTO log VALUES ('started');
  `);
  const insert = db.prepare("INSERT INTO items (name, price, big, data, note) VALUES (?, ?, ?, ?, ?)");
  for (let i = 0; i < 200; i++)
    insert.run(`item ${i}`, i / 3, 2n ** 62n + BigInt(i), Buffer.from([i % 256, 0, 255]), i % 7 ? null : "seven");
  db.close();
}

/** Runs `sql` on its own connection. */
function exec(path: string, sql: string): void {
  new Database(path).exec(sql).close();
}

function startWriter(path: string, ...args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WRITER, path, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve(child));
    child.on("exit", (code) => reject(new Error(`writer exited early with ${code}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on("exit", () => resolve())));
}

describe("check", () => {
  it("reports a missing file without creating it, and an existing one with its size", async () => {
    const missing = join(dir, "missing.sqlite");
    expect(await adapter(missing).check()).toEqual({ exists: false });
    await expect(adapter(missing).fingerprint()).rejects.toMatchObject({ code: "E_NOT_FOUND" });
    expect(existsSync(missing)).toBe(false);

    const path = join(dir, "db.sqlite");
    seed(path);
    const result = await adapter(path).check();
    expect(result.exists).toBe(true);
    expect(result.serverVersion).toMatch(/^3\.\d+\.\d+$/);
    expect(result.bytes).toBe(statSync(path).size);
  });

  it("refuses a file that is not a database", async () => {
    const path = join(dir, "notes.txt");
    writeFileSync(path, "not a database, just text that is long enough to have a header".repeat(10));
    await expect(adapter(path).check()).rejects.toMatchObject({ code: "E_CONNECT" });
  });
});

describe("backup and restore", () => {
  it("round-trips: the restored database has the fingerprint of the backup", async () => {
    const path = join(dir, "db.sqlite");
    seed(path);
    const db = adapter(path);
    const before = await db.fingerprint();
    const progress: Progress[] = [];
    const artifact = await db.backup(join(dir, "backups"), "run-1", { onProgress: (p) => progress.push(p) });

    // Nothing else has the database open: the file is copied under the read lock, hashed in the same pass.
    expect(artifact.format).toBe("sqlite-file-copy");
    expect(artifact.path).toBe(join(dir, "backups", "run-1.sqlite"));
    expect(artifact.bytes).toBe(statSync(artifact.path).size);
    expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.at(-1)).toEqual({ unit: "bytes", done: artifact.bytes, total: artifact.bytes });
    expect(await db.fingerprintBackup(artifact)).toEqual(before);

    exec(path, `DELETE FROM items WHERE id % 2 = 0; INSERT INTO log VALUES ('changed'); CREATE TABLE extra (x);`);
    expect((await db.fingerprint()).hash).not.toBe(before.hash);

    await db.restore(artifact);
    expect(await db.fingerprint()).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readdirSync(join(dir, "backups"))).toEqual(["run-1.sqlite"]);
  });

  it("backs up un-checkpointed WAL writes, and restores over a -wal file left by a killed writer", async () => {
    const path = join(dir, "db.sqlite");
    seed(path, true);
    // Writes that live only in the WAL: another connection with checkpoints off, still open.
    const other = new Database(path);
    other.pragma("wal_autocheckpoint = 0");
    other.prepare("INSERT INTO notes (body) VALUES (?)").run("only in the wal");
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    const db = adapter(path);
    const before = await db.fingerprint();
    expect(before.tables.notes?.rows).toBe(1);
    const artifact = await db.backup(join(dir, "backups"), "wal");
    expect(await db.fingerprintBackup(artifact)).toEqual(before);
    expect(readdirSync(join(dir, "backups"))).toEqual(["wal.sqlite"]);
    other.close();
    await db.close(); // the last connection to close checkpoints: none may stay open now

    // A writer killed with committed frames only in the -wal file, which nobody checkpointed.
    const writer = await startWriter(path, "wal-hold", "50");
    writer.kill("SIGKILL");
    await exited(writer);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    const reader = new Database(path, { readonly: true }); // a read-only close never checkpoints
    expect(reader.prepare("SELECT count(*) AS n FROM notes").get()).toEqual({ n: 51 });
    reader.close();
    await db.restore(artifact);
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
    expect(await db.fingerprint()).toEqual(before);
    const check = new Database(path, { readonly: true });
    expect([check.pragma("integrity_check", { simple: true }), check.pragma("journal_mode", { simple: true })]).toEqual(["ok", "wal"]);
    check.close();
  });

  it("is consistent while another process writes", async () => {
    const path = join(dir, "bank.sqlite");
    // About 25 MB, so the backup takes several steps, between which the writer commits.
    exec(
      path,
      `PRAGMA journal_mode = WAL; CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, padding BLOB);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
      INSERT INTO accounts (balance, padding) SELECT 100, randomblob(4000) FROM n;`,
    );
    const writer = await startWriter(path, "transfers");
    const db = adapter(path);
    const artifact = await db.backup(join(dir, "backups"), "busy");
    writer.kill("SIGTERM");
    await exited(writer);
    const copy = new Database(artifact.path, { readonly: true });
    expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(copy.prepare("SELECT count(*) AS n, sum(balance) AS total FROM accounts").get()).toEqual({ n: 6000, total: 600_000 });
    copy.close();
  });

  it("refuses a corrupted backup and changes nothing", async () => {
    const path = join(dir, "db.sqlite");
    seed(path);
    const db = adapter(path);
    const artifact = await db.backup(join(dir, "backups"), "good");
    exec(path, "INSERT INTO log VALUES ('after the backup')");
    const before = await db.fingerprint();
    await db.close();
    const bytesBefore = readFileSync(path);
    const corrupted = readFileSync(artifact.path);
    const at = corrupted.length - 100;
    corrupted.writeUInt8(corrupted.readUInt8(at) ^ 0xff, at);
    writeFileSync(artifact.path, corrupted);

    expect(isUpgradeError(await db.restore(artifact).catch((e: unknown) => e), "E_RESTORE")).toBe(true);
    expect(readFileSync(path).equals(bytesBefore)).toBe(true);
    expect(await db.fingerprint()).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(["backups", "db.sqlite"]);
  });

  it("writes 0600 files in a 0700 directory, overwrites on re-run, refuses a shared directory", async () => {
    const path = join(dir, "db.sqlite");
    seed(path);
    const db = adapter(path);
    const backups = join(dir, "state", "backups");
    const first = await db.backup(backups, "run");
    expect(statSync(backups).mode & 0o777).toBe(0o700);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);

    exec(path, "INSERT INTO log VALUES ('second')");
    writeFileSync(join(backups, `.run.sqlite.backup-${spawnSync(process.execPath, ["-e", ""]).pid}-0badf00d.tmp`), "left by a crash");
    const second = await db.backup(backups, "run");
    expect(second.path).toBe(first.path);
    expect(second.sha256).not.toBe(first.sha256);
    expect(statSync(second.path).mode & 0o777).toBe(0o600);
    expect(readdirSync(backups)).toEqual(["run.sqlite"]);
    expect(await db.fingerprintBackup(second)).toEqual(await db.fingerprint());

    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    await expect(db.backup(shared, "run")).rejects.toMatchObject({ code: "E_BACKUP" });
    expect(readdirSync(shared)).toEqual([]);
  });

  it("keeps the target file's mode on restore", async () => {
    const path = join(dir, "db.sqlite");
    seed(path);
    chmodSync(path, 0o640);
    const db = adapter(path);
    const artifact = await db.backup(join(dir, "backups"), "mode");
    await db.restore(artifact);
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });
});

describe("a database path that is a symbolic link, or whose name is 250 bytes long", () => {
  it("restores the real file behind a symbolic link and leaves the link a link", async () => {
    mkdirSync(join(dir, "volumes"));
    mkdirSync(join(dir, "data"));
    const real = join(dir, "volumes", "blog.sqlite");
    seed(real, true);
    const link = join(dir, "data", "blog.sqlite");
    symlinkSync("../volumes/blog.sqlite", link);
    const db = adapter(link);
    const before = await db.fingerprint();
    const artifact = await db.backup(join(dir, "backups"), "linked");
    exec(link, "DELETE FROM items; INSERT INTO log VALUES ('new version')");
    await db.restore(artifact);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("../volumes/blog.sqlite");
    expect(await adapter(real).fingerprint()).toEqual(before);
    expect(await db.fingerprint()).toEqual(before);
    expect(readdirSync(join(dir, "data"))).toEqual(["blog.sqlite"]);
  });

  it("backs up, migrates under its lock and restores a database whose file name is 250 bytes", async () => {
    const short = join(dir, "short.sqlite");
    seed(short, true); // WAL: SQLite itself needs no -journal beside the file
    const path = join(dir, `${"n".repeat(243)}.sqlite`);
    renameSync(short, path);
    const db = adapter(path);
    const before = await db.fingerprint();
    const artifact = await db.backup(join(dir, "backups"), "long");
    const release = await db.migrationDriver().lock(1000);
    exec(path, "DELETE FROM items");
    await release();
    await db.restore(artifact);
    expect(await db.fingerprint()).toEqual(before);
    for (const name of readdirSync(dir)) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});

describe("fingerprint", () => {
  it("changes when one value changes, including only its type", async () => {
    const path = join(dir, "db.sqlite");
    seed(path);
    const db = adapter(path);
    const base = await db.fingerprint();
    expect(Object.keys(base.tables).sort()).toEqual(["items", "kv", "log", "notes"]);
    expect(base.tables.items?.rows).toBe(200);
    expect(await db.fingerprint()).toEqual(base);

    const variants = [
      "UPDATE items SET name = 'item 100 ' WHERE id = 101",
      "UPDATE items SET big = big + 1 WHERE id = 200", // 2^62 + n: exact only with safeIntegers
      "UPDATE kv SET v = '1' WHERE k = 'a'", // integer 1 -> text '1'
      "UPDATE kv SET v = 1.0 WHERE k = 'a'", // integer 1 -> real 1.0
      "UPDATE items SET data = x'000000' WHERE id = 1",
      "UPDATE items SET note = '' WHERE id = 2", // null -> empty text
    ];
    for (const sql of variants) {
      const copy = join(dir, `variant.sqlite`);
      rmSync(copy, { force: true });
      const src = new Database(path);
      await src.backup(copy);
      src.close();
      exec(copy, sql);
      const variant = adapter(copy);
      const fp = await variant.fingerprint();
      await variant.close();
      expect(fp.hash, sql).not.toBe(base.hash);
      expect(fp.schema, sql).toBe(base.schema);
    }

    exec(path, "CREATE INDEX log_line ON log (line)");
    const indexed = await db.fingerprint();
    expect(indexed.schema).not.toBe(base.schema);
    expect(indexed.tables).toEqual(base.tables);
  });
});

describe("quiesce", () => {
  it("checkpoints the WAL into the main file", async () => {
    const path = join(dir, "db.sqlite");
    seed(path, true);
    const db = adapter(path);
    // Closing the last connection would checkpoint: keep this one open, checkpoints off.
    const holder = new Database(path);
    holder.pragma("wal_autocheckpoint = 0");
    holder.prepare("INSERT INTO notes (body) VALUES ('y')").run();
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    await db.quiesce();
    expect(statSync(`${path}-wal`).size).toBe(0);
    holder.close();
  });
});

describe("lazy driver", () => {
  it("importing the sqlite entry point does not load better-sqlite3", async () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const { createSqliteAdapter } = await import(${JSON.stringify(fileURLToPath(new URL("../src/adapters/sqlite/index.ts", import.meta.url)))});
      const loaded = () => Object.keys(require.cache).some((k) => k.includes("better-sqlite3"));
      const before = loaded();
      const a = createSqliteAdapter({ path: ${JSON.stringify(join(dir, "none.sqlite"))} });
      await a.check();
      const afterCheckMissing = loaded();
      const b = createSqliteAdapter({ path: ${JSON.stringify(join(dir, "db.sqlite"))} });
      await b.check();
      const afterOpen = loaded();
      await b.close();
      console.log(JSON.stringify({ before, afterCheckMissing, afterOpen }));
    `;
    seed(join(dir, "db.sqlite"));
    const file = join(dir, "probe.mts");
    writeFileSync(file, script);
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", import.meta.resolve("jiti/register"), file]);
    expect(JSON.parse(stdout)).toEqual({ before: false, afterCheckMissing: false, afterOpen: true });
  });
});
