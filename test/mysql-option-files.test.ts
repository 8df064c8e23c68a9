// The dump tool and the client read no option file: with a hostile ~/.my.cnf (and $MYSQL_HOME)
// that points the client at another host and password, or tells mysqldump to dump no rows, the
// backup still dumps everything from the right server and the restore loads everything into
// the right database. The user has a password: it reaches the tools through MYSQL_PWD, which
// `--no-defaults` leaves working.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMysqlAdapter, derivedName, type MysqlAdapter, type MysqlTarget } from "../src/adapters/mysql/index.js";
import { parseDatabaseUrl } from "../src/url.js";
import { DAMAGE, leftovers, shopDatabase, type ShopDb } from "./helpers/mysql-restore.js";
import { ADMIN_URL, execSql, randomName, serverAvailable } from "./helpers/servers.js";

const available = await serverAvailable("mysql");

/** Option files a user could have; each would change what is dumped or loaded, or where. */
const OPTION_FILES: Record<string, string> = {
  "another host, port, user and password in [client]": "[client]\nhost=203.0.113.1\nport=1\nuser=nobody\npassword=not-the-password\n",
  "no-data and where=1=0 for the dump tool, a TLS CA for the client":
    "[mysqldump]\nno-data\n[mariadb-dump]\nwhere=1=0\n[mysql]\nssl-ca=/nonexistent/ca.pem\nssl-verify-server-cert\n",
};

describe.skipIf(!available)("MySQL tools ignore option files (--no-defaults)", () => {
  let dir: string;
  let db: ShopDb | undefined;
  let adapter: MysqlAdapter | undefined;
  let user = "";
  const saved = { HOME: process.env.HOME, MYSQL_HOME: process.env.MYSQL_HOME };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "um-mysql-cnf-"));
    db = await shopDatabase(dir);
    user = randomName("um_cnf");
    const password = "s3cret-of-the-url";
    await db.exec([
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`,
      ...[db.name, derivedName(db.name, "restore"), derivedName(db.name, "old")].map((n) => `GRANT ALL ON \`${n}\`.* TO '${user}'@'%'`),
    ]);
    const url = new URL(db.url);
    url.username = user;
    url.password = password;
    adapter = createMysqlAdapter(parseDatabaseUrl(url.toString(), "/") as MysqlTarget);
  });
  afterEach(async () => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    await adapter?.close();
    await db?.drop();
    await execSql("mysql", ADMIN_URL.mysql, [`DROP USER IF EXISTS '${user}'@'%'`]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `fn` with HOME and MYSQL_HOME pointing at a folder holding `cnf` as .my.cnf and my.cnf. */
  async function withOptionFile<T>(cnf: string, fn: () => Promise<T>): Promise<T> {
    const home = mkdtempSync(join(dir, "home-"));
    writeFileSync(join(home, ".my.cnf"), cnf, { mode: 0o600 });
    writeFileSync(join(home, "my.cnf"), cnf, { mode: 0o600 });
    process.env.HOME = home;
    process.env.MYSQL_HOME = home;
    try {
      return await fn();
    } finally {
      process.env.HOME = saved.HOME;
      if (saved.MYSQL_HOME === undefined) delete process.env.MYSQL_HOME;
      else process.env.MYSQL_HOME = saved.MYSQL_HOME;
    }
  }

  for (const [name, cnf] of Object.entries(OPTION_FILES)) {
    it(`with ${name}: the backup holds every row of the right database`, async () => {
      const point = await adapter!.fingerprint();
      const artifact = await withOptionFile(cnf, () => adapter!.backup(dir, "point"));
      await db!.exec(DAMAGE);
      await adapter!.restore(artifact, { expected: point });
      expect(await db!.fingerprint()).toEqual(point);
    });

    it(`with ${name}: the restore loads every row into the right database`, async () => {
      const point = await adapter!.fingerprint();
      const artifact = await adapter!.backup(dir, "point");
      await db!.exec(DAMAGE);
      await withOptionFile(cnf, () => adapter!.restore(artifact, { expected: point }));
      expect(await db!.fingerprint()).toEqual(point);
      expect(await leftovers(db!.name)).toEqual([]);
    });
  }
});
