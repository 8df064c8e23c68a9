// The MySQL/MariaDB restore loads the dump into a scratch database and proves it before the live
// database is touched: a dump that fails to load, or loads to another fingerprint, changes
// nothing; a proven one replaces the live database with its grants, character set, collation
// and comment kept. Real MariaDB, real mariadb-dump and mariadb client.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMysqlAdapter, derivedName, type MysqlTarget } from "../src/adapters/mysql/index.js";
import { parseDatabaseUrl } from "../src/url.js";
import { caught, everything } from "./contract/helpers.js";
import { DAMAGE, leftovers, shopDatabase, writeDump, type ShopDb } from "./helpers/mysql-restore.js";
import { ADMIN_URL, execSql, querySql, randomName, serverAvailable } from "./helpers/servers.js";

const available = await serverAvailable("mysql");

describe.skipIf(!available)("MySQL restore: proven on a scratch database before the live one is replaced", () => {
  let dir: string;
  let db: ShopDb | undefined;
  const users: string[] = [];
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "um-mysql-restore-"))));
  afterEach(async () => {
    await db?.drop();
    db = undefined;
    if (users.length)
      await execSql(
        "mysql",
        ADMIN_URL.mysql,
        users.splice(0).map((u) => `DROP USER IF EXISTS '${u}'@'%'`),
      );
    rmSync(dir, { recursive: true, force: true });
  });

  it("a dump that fails part-way when loaded is E_RESTORE; the live database is untouched and no scratch database is left", async () => {
    db = await shopDatabase(dir);
    const before = await db.fingerprint();
    const artifact = writeDump(
      dir,
      db.name,
      [
        "DROP TABLE IF EXISTS `customers`;",
        "CREATE TABLE `customers` (`id` int PRIMARY KEY, `name` text);",
        "INSERT INTO `customers` VALUES (1, 'only one');",
        "INSERT INTO `no_such_table` VALUES (1);",
        "CREATE TABLE `after_the_failure` (`id` int PRIMARY KEY);",
        "",
      ].join("\n"),
    );
    const err = await caught(db.adapter.restore(artifact));
    expect(err.code).toBe("E_RESTORE");
    expect(everything(err)).toMatch(/no_such_table/);
    expect(await db.fingerprint()).toEqual(before);
    expect(await leftovers(db.name)).toEqual([]);
  });

  it("a dump that loads to another fingerprint than the expected one is E_RESTORE naming the tables; live untouched, scratch gone", async () => {
    db = await shopDatabase(dir);
    const artifact = await db.adapter.backup(dir, "point");
    await db.exec(DAMAGE);
    const damaged = await db.fingerprint();
    const err = await caught(db.adapter.restore(artifact, { expected: damaged }));
    expect(err.code).toBe("E_RESTORE");
    expect(err.details?.differing).toEqual(expect.arrayContaining(["audit_log", "customers"]));
    expect(err.message).toContain(`${db.name} was not changed`);
    expect(await db.fingerprint()).toEqual(damaged);
    expect(await leftovers(db.name)).toEqual([]);
  });

  it("a proven dump replaces the live database (one RENAME TABLE swap): equal fingerprint; grants, collation and comment kept; nothing left over", async () => {
    db = await shopDatabase(dir);
    const user = randomName("um_grantee");
    users.push(user);
    await db.exec([
      `ALTER DATABASE \`${db.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci COMMENT 'the shop'`,
      `CREATE USER '${user}'@'%'`,
      `GRANT SELECT, INSERT ON \`${db.name}\`.* TO '${user}'@'%'`,
      `GRANT UPDATE (name) ON \`${db.name}\`.customers TO '${user}'@'%'`,
    ]);
    const grants = await querySql("mysql", ADMIN_URL.mysql, [`SHOW GRANTS FOR '${user}'@'%'`]);
    const point = await db.fingerprint();
    const artifact = await db.adapter.backup(dir, "point");
    await db.exec([
      ...DAMAGE,
      `ALTER DATABASE \`${db.name}\` COLLATE utf8mb4_bin`,
      // objects a failed migration could add; the trigger would stop its table from moving
      `CREATE TRIGGER customers_upper BEFORE INSERT ON customers FOR EACH ROW SET NEW.name = UPPER(NEW.name)`,
      `CREATE VIEW customer_names AS SELECT name FROM customers`,
    ]);
    const phases = new Set<string | undefined>();
    await db.adapter.restore(artifact, { expected: point, onProgress: (p) => phases.add(p.message) });
    expect([...phases]).toEqual([`loading into ${derivedName(db.name, "restore")}`]); // loaded once, then swapped
    expect(await db.fingerprint()).toEqual(point);
    const [schema] = await querySql("mysql", ADMIN_URL.mysql, [
      `SELECT DEFAULT_COLLATION_NAME AS co, SCHEMA_COMMENT AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${db.name}'`,
    ]);
    expect(schema).toEqual({ co: "utf8mb4_unicode_ci", c: "the shop" });
    expect(await querySql("mysql", ADMIN_URL.mysql, [`SHOW GRANTS FOR '${user}'@'%'`])).toEqual(grants);
    expect(await leftovers(db.name)).toEqual([]);
  });

  it("a database with a trigger, a view and a procedure is replaced by loading the proven dump again: equal fingerprint, nothing left over", async () => {
    db = await shopDatabase(dir);
    await db.exec([
      // a body may name the database: only a trigger's header decides where it is created
      `CREATE TRIGGER orders_total BEFORE INSERT ON orders FOR EACH ROW SET NEW.total_cents = GREATEST(NEW.total_cents, (SELECT COUNT(*) FROM \`${db.name}\`.customers) * 0)`,
      `CREATE VIEW paid_orders AS SELECT id, customer_id, total_cents FROM orders WHERE status = 'paid'`,
      `CREATE PROCEDURE count_orders() SELECT COUNT(*) FROM orders`,
    ]);
    const point = await db.fingerprint();
    const artifact = await db.adapter.backup(dir, "point");
    await db.exec([
      ...DAMAGE,
      `DROP TRIGGER orders_total`,
      `CREATE VIEW big_orders AS SELECT id FROM orders WHERE total_cents > 5000`,
      `DROP PROCEDURE count_orders`,
    ]);
    const phases = new Set<string | undefined>();
    await db.adapter.restore(artifact, { expected: point, onProgress: (p) => phases.add(p.message) });
    expect([...phases]).toEqual([`loading into ${derivedName(db.name, "restore")}`, `loading into ${db.name}`]);
    expect(await db.fingerprint()).toEqual(point);
    expect(await db.query(`SELECT COUNT(*) AS n FROM paid_orders`)).toEqual(
      await db.query(`SELECT COUNT(*) AS n FROM orders WHERE status = 'paid'`),
    );
    expect(await leftovers(db.name)).toEqual([]);
  });

  it("a dump whose trigger names the database (CREATE TRIGGER db.t ... ON db.orders) is refused before anything is loaded: E_RESTORE, live untouched", async () => {
    db = await shopDatabase(dir);
    await db.exec([
      `CREATE TRIGGER \`${db.name}\`.orders_check BEFORE INSERT ON \`${db.name}\`.orders FOR EACH ROW SET NEW.total_cents = NEW.total_cents`,
    ]);
    const artifact = await db.adapter.backup(dir, "point");
    await db.exec([...DAMAGE, `DROP TRIGGER orders_check`]);
    const damaged = await db.fingerprint();
    const err = await caught(db.adapter.restore(artifact));
    expect(err.code).toBe("E_RESTORE");
    expect(err.message).toContain("orders_check");
    expect(await db.fingerprint()).toEqual(damaged);
    expect(await leftovers(db.name)).toEqual([]);
  });

  it("a user who may not create the restore's databases gets E_RESTORE naming them, the live database untouched; once granted, the restore works (password through MYSQL_PWD)", async () => {
    db = await shopDatabase(dir);
    const user = randomName("um_owner");
    users.push(user);
    const password = "p@ss'word;1";
    await db.exec([
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${password.replace(/'/g, "''")}'`,
      `GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`,
    ]);
    const url = new URL(db.url);
    url.username = user;
    url.password = encodeURIComponent(password);
    const adapter = createMysqlAdapter(parseDatabaseUrl(url.toString(), "/") as MysqlTarget);
    try {
      const point = await adapter.fingerprint();
      const artifact = await adapter.backup(dir, "point");
      await db.exec(DAMAGE);
      const damaged = await db.fingerprint();
      const err = await caught(adapter.restore(artifact, { expected: point }));
      expect(err.code).toBe("E_RESTORE");
      expect(err.hint).toContain(derivedName(db.name, "restore"));
      expect(everything(err)).not.toContain(password);
      expect(await db.fingerprint()).toEqual(damaged);
      await db.exec([
        `GRANT ALL ON \`${derivedName(db.name, "restore")}\`.* TO '${user}'@'%'`,
        `GRANT ALL ON \`${derivedName(db.name, "old")}\`.* TO '${user}'@'%'`,
      ]);
      await adapter.restore(artifact, { expected: point });
      expect(await db.fingerprint()).toEqual(point);
      expect(await leftovers(db.name)).toEqual([]);
    } finally {
      await adapter.close();
    }
  });

  it("derived names are recognisable, at most 64 characters, and distinct for long names that share a prefix", () => {
    expect(derivedName("shop", "restore")).toBe("shop__um_restore");
    const long = "a".repeat(60);
    const names = [derivedName(`${long}_one`, "restore"), derivedName(`${long}_two`, "restore"), derivedName(`${long}_one`, "old")];
    for (const n of names) {
      expect([...n].length).toBeLessThanOrEqual(64);
      expect(n).toMatch(/^a+__um_(restore|old)_[0-9a-f]{12}$/);
    }
    expect(new Set(names).size).toBe(3);
    expect([...derivedName("é".repeat(64), "restore")].length).toBe(64);
  });
});
