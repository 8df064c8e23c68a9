// The adapter contract: what every DatabaseAdapter must do, defined once and run for every
// dialect (test/adapters.contract.test.ts). Real databases, real tools, no mocks.
import { readdirSync, statSync, copyFileSync, readFileSync, writeFileSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openAdapter } from "../../src/adapters/registry.js";
import type { BackupArtifact } from "../../src/adapters/types.js";
import { readDrizzleFolder } from "../../src/migrations/drizzle-folder.js";
import { runMigrations } from "../../src/migrations/runner.js";
import type { Progress } from "../../src/progress.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { caught, folderWith, startLockChild, startMigrateChild } from "./helpers.js";
import type { ContractDb, ContractTarget } from "./targets.js";

/** A few rows in every table of the shop schema (after its v1 and v2 migrations). */
export const SEED = [
  `INSERT INTO customers (email, name, profile) VALUES ('ada@example.org', 'Ada', '{"age": 36, "tags": ["math"]}')`,
  `INSERT INTO customers (email, name, profile) VALUES ('alan@example.org', 'Alan', '{"age": 41}')`,
  `INSERT INTO orders (customer_id, status, total_cents, meta) VALUES (1, 'paid', 1200, '{"src": "web"}')`,
  `INSERT INTO orders (customer_id, status, total_cents, meta) VALUES (2, 'new', 300, NULL)`,
  `INSERT INTO order_items (order_id, sku, qty, price_cents) VALUES (1, 'SKU-1', 2, 600)`,
  `INSERT INTO order_items (order_id, sku, qty, price_cents) VALUES (2, 'SKU-2', 1, 300)`,
];

/** Defines the adapter contract tests of one target. */
export function defineAdapterContract(target: ContractTarget): void {
  describe.skipIf(!target.available)(`${target.name} adapter contract`, () => {
    let db: ContractDb;
    let dir: string;
    beforeEach(async () => {
      db = await target.create();
      dir = mkdtempSync(join(tmpdir(), "um-backups-"));
    });
    afterEach(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** The shop schema at v2 with the seed rows. */
    async function seeded(): Promise<void> {
      await runMigrations(db.adapter.migrationDriver(), folderWith(target.migrations, 2, dir));
      await db.exec(SEED);
    }
    const count = async (table: string): Promise<number> =>
      Number((await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n);

    it("backup writes a 0600 file in a 0700 directory, hashed as recorded, with progress in bytes and no temporary file left", async () => {
      await seeded();
      const progress: Progress[] = [];
      const backups = join(dir, "backups");
      const artifact = await db.adapter.backup(backups, "point", { onProgress: (p) => progress.push(p) });
      expect(artifact.format).toBe(target.format);
      expect(statSync(backups).mode & 0o777).toBe(0o700);
      expect(statSync(artifact.path).mode & 0o777).toBe(0o600);
      const bytes = readFileSync(artifact.path);
      expect(bytes.length).toBe(artifact.bytes);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(artifact.sha256);
      expect(readdirSync(backups)).toEqual([artifact.path.slice(backups.length + 1)]);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((p) => p.unit === "bytes")).toBe(true);
      expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    });

    it("the target lock: one holder from any spelling of the target, the same identity, freed at once when its process is killed", async () => {
      const other = otherSpelling(db.url, dir);
      const lock = await db.adapter.lockTarget();
      const second = await openAdapter(parseDatabaseUrl(other, dir));
      try {
        const refused = await caught(second.lockTarget());
        expect(refused.code).toBe("E_BUSY");
        expect(refused.hint).toBeTruthy();
        await lock.release();
        const again = await second.lockTarget();
        expect(again.identity).toBe(lock.identity);
        expect(again.identity).not.toContain(other.includes("@") ? "127.0.0.1" : "\u0000");
        await again.release();
      } finally {
        await lock.release();
        await second.close();
      }
      const child = await startLockChild(other);
      expect(child.line).toBe(`locked ${lock.identity}`);
      expect((await caught(db.adapter.lockTarget())).code).toBe("E_BUSY");
      await child.kill();
      const after = await db.adapter.lockTarget(); // SIGKILL released it: no stale lock, no wait
      await after.release();
    });

    it("restore brings back the restore point exactly: equal fingerprint; later rows, tables and schema changes gone", async () => {
      await seeded();
      const before = await db.adapter.fingerprint();
      const artifact = await db.adapter.backup(dir, "point");
      await db.exec([
        `UPDATE customers SET name = 'Ada L.' WHERE id = 1`,
        `DELETE FROM customers WHERE id = 2`, // cascades into orders and order_items
        `INSERT INTO customers (email, name) VALUES ('grace@example.org', 'Grace')`,
        `CREATE TABLE audit_log (id INT PRIMARY KEY, line TEXT)`,
        `CREATE INDEX customers_name_idx ON customers (name)`,
      ]);
      expect(await count("order_items")).toBe(1);
      expect((await db.adapter.fingerprint()).hash).not.toBe(before.hash);
      await db.adapter.restore(artifact);
      const after = await db.adapter.fingerprint();
      expect(after).toEqual(before);
      expect(await count("order_items")).toBe(2);
      await expect(db.query(`SELECT * FROM audit_log`)).rejects.toThrow();
    });

    it("fingerprint is a function of content: equal when unchanged or changed back, different after a data or schema change", async () => {
      await seeded();
      const a = await db.adapter.fingerprint();
      expect(await db.adapter.fingerprint()).toEqual(a);
      await db.exec([`UPDATE orders SET total_cents = 1201 WHERE id = 1`]);
      const changed = await db.adapter.fingerprint();
      expect(changed.hash).not.toBe(a.hash);
      expect(changed.schema).toBe(a.schema);
      expect(Object.keys(changed.tables).filter((t) => changed.tables[t]?.hash !== a.tables[t]?.hash)).toEqual(["orders"]);
      await db.exec([`UPDATE orders SET total_cents = 1200 WHERE id = 1`]);
      expect(await db.adapter.fingerprint()).toEqual(a);
      await db.exec([`CREATE INDEX orders_total_idx ON orders (total_cents)`]);
      expect((await db.adapter.fingerprint()).schema).not.toBe(a.schema);
    });

    it("fingerprint covers sequences / AUTO_INCREMENT: a counter that moved changes it even when the rows are equal", async () => {
      await seeded();
      const a = await db.adapter.fingerprint();
      await db.exec([
        `INSERT INTO customers (email, name) VALUES ('tmp@example.org', 'Tmp')`,
        `DELETE FROM customers WHERE email = 'tmp@example.org'`,
      ]);
      const b = await db.adapter.fingerprint();
      expect(b.tables.customers).toEqual(a.tables.customers);
      expect(b.hash).not.toBe(a.hash);
    });

    it("a corrupt backup is refused with E_RESTORE before anything is changed", async () => {
      await seeded();
      const artifact = await db.adapter.backup(dir, "point");
      await db.exec([`DELETE FROM order_items WHERE id = 2`]);
      const now = await db.adapter.fingerprint();
      const copy = join(dir, `copy-${artifact.path.split("/").pop()}`);
      copyFileSync(artifact.path, copy);
      const bytes = readFileSync(copy);
      bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
      writeFileSync(copy, bytes);
      const err = await caught(db.adapter.restore({ ...artifact, path: copy } satisfies BackupArtifact));
      expect(err.code).toBe("E_RESTORE");
      expect(await db.adapter.fingerprint()).toEqual(now);
    });

    it("fingerprintBackup, where the adapter declares it (capabilities.backupFingerprints), equals the fingerprint of the database when it was backed up; elsewhere it is refused", async () => {
      if (!db.adapter.capabilities.backupFingerprints) {
        await seeded();
        expect((await caught(db.adapter.fingerprintBackup(await db.adapter.backup(dir, "x")))).code).toBe("E_INTERNAL");
        return;
      }
      await seeded();
      const live = await db.adapter.fingerprint();
      const artifact = await db.adapter.backup(dir, "point");
      await db.exec([`DELETE FROM order_items`]);
      expect(await db.adapter.fingerprintBackup(artifact)).toEqual(live);
    });

    it("migrations apply once, are recorded as drizzle records them, and drizzle-orm's own migrate() then finds nothing to do", async () => {
      const driver = db.adapter.migrationDriver();
      expect(driver.capabilities.transactionalDdl).toBe(db.adapter.capabilities.transactionalDdl);
      const first = await runMigrations(driver, target.migrations);
      expect(first.applied).toEqual(["0000_v1", "0001_v2", "0002_v3"]);
      expect((await runMigrations(driver, target.migrations)).applied).toEqual([]);
      const files = await readDrizzleFolder(target.migrations);
      expect(await db.bookkeeping()).toEqual(files.map((f) => ({ hash: f.hash, created_at: f.when })));
      await db.drizzleMigrate(target.migrations); // would fail re-creating the tables if it disagreed
      expect((await db.bookkeeping()).length).toBe(3);
    });

    it("a failing migration is not recorded; with transactional DDL none of it stays, without it the error names the failing statement and those that ran", async () => {
      await seeded();
      await db.exec([`UPDATE customers SET email = 'ada@example.org'`]); // v3's unique index now fails
      const err = await caught(runMigrations(db.adapter.migrationDriver(), target.migrations));
      expect(err.code).toBe("E_MIGRATION_FAILED");
      expect(err.details).toMatchObject({ tag: "0002_v3", statementIndex: 1 });
      expect(String(err.details?.statement)).toMatch(/customers_email_unique/);
      expect((await db.bookkeeping()).length).toBe(2);
      if (db.adapter.capabilities.transactionalDdl) {
        expect(await db.columns("customers")).not.toContain("nickname");
      } else {
        expect(await db.columns("customers")).toContain("nickname");
        expect(err.details?.ranBefore).toEqual([{ index: 0, statement: expect.stringMatching(/ADD `nickname`/) }]);
        expect(err.message).toMatch(/statement 2 of 2/);
        // the runner reads the capability: the error says what stays and that the database must be restored
        expect(err.details?.transactionalDdl).toBe(false);
        expect(err.hint).toMatch(/no transactional DDL: statements of 0002_v3 before the failing one stay applied/);
      }
    });

    it("a held migration lock makes another runner fail with E_LOCKED after its timeout, applying nothing", async () => {
      await db.query("SELECT 1"); // a SQLite file must exist before a migration opens it
      const release = await db.adapter.migrationDriver().lock(5_000);
      // Another adapter on the same database: another connection, as another process would have.
      const adapter = await openAdapter(parseDatabaseUrl(db.url, "/"));
      try {
        const started = Date.now();
        const err = await caught(runMigrations(adapter.migrationDriver(), target.migrations, { lockTimeoutMs: 400 }));
        expect(err.code).toBe("E_LOCKED");
        expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      } finally {
        await adapter.close();
        await release();
      }
      expect(await db.columns("customers")).toEqual([]);
    });

    it("two processes migrating at once both succeed, one waiting for the other, and each migration is applied once", async () => {
      await db.query("SELECT 1");
      const release = await db.adapter.migrationDriver().lock(5_000);
      const children = [startMigrateChild(db.url, target.migrations), startMigrateChild(db.url, target.migrations)];
      try {
        await Promise.all(children.map((c) => c.ready));
        await new Promise((r) => setTimeout(r, 300)); // both are now waiting for the lock
      } finally {
        await release();
      }
      const results = await Promise.all(children.map((c) => c.done));
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      const applied = results.map((r) => (r.result.applied as string[]).length).sort();
      expect(applied).toEqual([0, 3]);
      expect(results.map((r) => (r.result.alreadyApplied as string[]).length).sort()).toEqual([0, 3]);
      expect((await db.bookkeeping()).length).toBe(3);
    });
  });
}

/**
 * The same database named another way: a SQLite file through a symlink in another folder; a
 * server database through `localhost` instead of `127.0.0.1` (or the other way round).
 */
function otherSpelling(url: string, dir: string): string {
  if (url.startsWith("sqlite:")) {
    const path = (parseDatabaseUrl(url, "/") as { path: string }).path;
    const link = join(dir, "link-to-db.sqlite");
    symlinkSync(path, link);
    return `sqlite:${link}`;
  }
  return url.includes("127.0.0.1") ? url.replace("127.0.0.1", "localhost") : url.replace("localhost", "127.0.0.1");
}
