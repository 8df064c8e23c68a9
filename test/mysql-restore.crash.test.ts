// A MySQL restore killed with SIGKILL (a real child process) in the middle of loading the scratch
// copy, in the middle of the RENAME TABLE swap, and in the middle of loading the proven dump into
// the live database: the live database is never missing, never a mix of old and new tables, and
// restoring again converges to the restore point with no scratch or trash database left.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { derivedName } from "../src/adapters/mysql/index.js";
import type { BackupArtifact, Fingerprint } from "../src/adapters/types.js";
import { DAMAGE, leftovers, restoreInChild, shopDatabase, type ShopDb } from "./helpers/mysql-restore.js";
import { ADMIN_URL, querySql, serverAvailable } from "./helpers/servers.js";

const available = await serverAvailable("mysql");
/** About 6 MB of dump: the load takes a few progress reports (one per MiB). */
const CUSTOMERS = 8_000;

describe.skipIf(!available)("MySQL restore killed with SIGKILL, then restored again", () => {
  let dir: string;
  let db: ShopDb | undefined;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "um-mysql-crash-"))));
  afterEach(async () => {
    await db?.drop();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A seeded database (with `extra` schema objects), its restore point, and damage after it. */
  async function prepare(
    extra: string[] = [],
  ): Promise<{ db: ShopDb; point: Fingerprint; damaged: Fingerprint; artifact: BackupArtifact }> {
    const shop = await shopDatabase(dir, CUSTOMERS);
    db = shop;
    if (extra.length) await shop.exec(extra);
    const point = await shop.fingerprint();
    const artifact = await shop.adapter.backup(dir, "point");
    expect(artifact.bytes).toBeGreaterThan(3 * 2 ** 20);
    await shop.exec(DAMAGE);
    return { db: shop, point, damaged: await shop.fingerprint(), artifact };
  }

  /** Restores again in a child that is not killed, and checks the result. */
  async function convergesAfter(shop: ShopDb, artifact: BackupArtifact, point: Fingerprint): Promise<void> {
    const again = await restoreInChild(dir, shop.url, { artifact, expected: point }).done;
    expect(again.lines.at(-1), again.stderr).toEqual({ ok: true });
    expect(await shop.fingerprint()).toEqual(point);
    expect(await leftovers(shop.name)).toEqual([]);
  }

  it("killed while the dump loads into the scratch database: the live database is untouched; restoring again converges", async () => {
    const { db: shop, point, damaged, artifact } = await prepare();
    const scratch = `loading into ${derivedName(shop.name, "restore")}`;
    // Killed at the first load's first progress report, whatever that load is.
    const run = restoreInChild(
      dir,
      shop.url,
      { artifact, expected: point },
      (l) => l.progress !== undefined && l.progress.done > 0 && l.progress.done < artifact.bytes,
    );
    const killed = await run.done;
    expect(killed.signal).toBe("SIGKILL");
    expect(await shop.fingerprint()).toEqual(damaged);
    expect(killed.lines.map((l) => l.progress?.message)).toEqual(killed.lines.map(() => scratch));
    expect(await leftovers(shop.name)).toContain(derivedName(shop.name, "restore"));
    await convergesAfter(shop, artifact, point);
  });

  it("killed in the middle of the swap (its RENAME TABLE waiting for a table another session holds): live is all old or all new; restoring again converges", async () => {
    const { db: shop, point, damaged, artifact } = await prepare();
    const holder = await mysql.createConnection(shop.url);
    let swapped: string | undefined;
    try {
      await holder.query("START TRANSACTION");
      await holder.query("SELECT COUNT(*) FROM customers"); // a metadata lock until COMMIT
      const run = restoreInChild(dir, shop.url, { artifact, expected: point });
      for (let i = 0; i < 600 && swapped === undefined; i++) {
        const rows = await querySql<{ info: string }>("mysql", ADMIN_URL.mysql, [
          `SELECT INFO AS info FROM information_schema.PROCESSLIST WHERE INFO LIKE 'RENAME TABLE%${shop.name}%' AND STATE LIKE '%metadata lock%'`,
        ]);
        swapped = rows[0]?.info;
        if (swapped === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      run.kill();
      expect((await run.done).signal).toBe("SIGKILL");
      expect(swapped).toMatch(/^RENAME TABLE /);
    } finally {
      await holder.query("COMMIT");
      await holder.end();
    }
    // The server finishes the orphaned RENAME on its own (MariaDB 10.11 does) or drops it: never half of it.
    await new Promise((r) => setTimeout(r, 500));
    expect([point.hash, damaged.hash]).toContain((await shop.fingerprint()).hash);
    await convergesAfter(shop, artifact, point);
  });

  it("killed while the proven dump loads into the live database (a schema with a trigger): the database is still there; restoring again converges", async () => {
    const {
      db: shop,
      point,
      artifact,
    } = await prepare([
      `CREATE TRIGGER orders_total BEFORE INSERT ON orders FOR EACH ROW SET NEW.total_cents = GREATEST(NEW.total_cents, 0)`,
    ]);
    const live = `loading into ${shop.name}`;
    const run = restoreInChild(
      dir,
      shop.url,
      { artifact, expected: point },
      (l) => l.progress?.message === live && l.progress.done > 0 && l.progress.done < artifact.bytes,
    );
    const killed = await run.done;
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.lines.some((l) => l.progress?.message === live)).toBe(true);
    expect(await querySql("mysql", ADMIN_URL.mysql, [`SHOW DATABASES LIKE '${shop.name}'`])).toHaveLength(1);
    expect((await shop.fingerprint()).hash).not.toBe(point.hash);
    await convergesAfter(shop, artifact, point);
  });
});
