// MySQL / MariaDB change marks (issue 11): after a mark, each kind of write is seen by sinceMark;
// no write (or a hot backup) is proven unchanged. InnoDB's log sequence number is server-wide, so
// the tests run on a private MariaDB nobody else writes to (the shared one moves all the time),
// and wait for it to settle after the setup's writes (purge and persistent statistics keep
// writing redo for a few seconds).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMysqlAdapter, type MysqlAdapter } from "../src/adapters/mysql/index.js";
import type { ChangeMark } from "../src/adapters/types.js";
import { parseDatabaseUrl, type DatabaseTarget } from "../src/url.js";
import { caught } from "./contract/helpers.js";
import { privateMariadbMissing, startPrivateMariadb, type PrivateMariadb } from "./helpers/mariadb-server.js";

const PORT = 4524;
const missing = privateMariadbMissing();
if (missing && !process.env.CI) console.warn(`\n!! SKIPPING the MariaDB change-mark tests: ${missing}\n`);

describe.skipIf(!!missing && !process.env.CI)("change marks on a private MariaDB", () => {
  let server: PrivateMariadb;
  let conn: mysql.Connection;
  let adapter: MysqlAdapter;
  let dir: string;
  const url = () => `mysql://root@127.0.0.1:${server.port}/um_sb_marks`;
  const lsn = async (): Promise<string> => {
    const [rows] = await conn.query("SHOW GLOBAL STATUS LIKE 'Innodb_lsn_current'");
    return String((rows as { Value: string }[])[0]?.Value);
  };
  /** Waits until the LSN stood still for 1.5 s (purge and statistics after the setup's writes). */
  const settle = async (): Promise<void> => {
    let last = await lsn();
    let since = Date.now();
    const deadline = Date.now() + 60_000;
    while (Date.now() - since < 1500) {
      if (Date.now() > deadline) throw new Error("the private MariaDB's LSN never settled");
      await new Promise((r) => setTimeout(r, 100));
      const now = await lsn();
      if (now !== last) [last, since] = [now, Date.now()];
    }
  };
  const markOf = async (): Promise<ChangeMark> => {
    const m = await adapter.changeMark();
    if ("skipped" in m) throw new Error(`no mark: ${m.skipped}`);
    return m;
  };
  const seen = async (write: () => Promise<unknown>): Promise<string> => {
    const mark = await markOf();
    await write();
    const check = await adapter.sinceMark(mark);
    expect(check, "a write after the mark must be seen").toMatchObject({ unchanged: false });
    return (check as { why: string }).why;
  };
  const unchangedAcross = async (between: () => Promise<unknown>): Promise<void> => {
    await settle();
    const mark = await markOf();
    await between();
    expect(await adapter.sinceMark(mark)).toEqual({ unchanged: true });
  };

  beforeAll(async () => {
    server = await startPrivateMariadb(PORT);
    conn = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", multipleStatements: true });
    await conn.query(
      "CREATE DATABASE um_sb_marks; USE um_sb_marks; CREATE TABLE t (id int PRIMARY KEY AUTO_INCREMENT, v varchar(50) NOT NULL DEFAULT 'a') ENGINE=InnoDB;" +
        "INSERT INTO t (v) SELECT concat('row ', seq) FROM seq_1_to_100; CREATE DATABASE um_sb_journal; CREATE TABLE um_sb_journal.events (seq int PRIMARY KEY) ENGINE=InnoDB",
    );
    adapter = createMysqlAdapter(parseDatabaseUrl(url(), "/") as Extract<DatabaseTarget, { dialect: "mysql" }>);
    dir = mkdtempSync(join(tmpdir(), "um-marks-mysql-"));
  }, 120_000);
  afterAll(async () => {
    await adapter?.close();
    await conn?.end();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("nothing written: unchanged", () => unchangedAcross(async () => undefined));
  it("a mariadb-dump hot backup between: unchanged", () => unchangedAcross(() => adapter.hotBackup(dir, "hot")));
  it("an insert", () => seen(() => conn.query("INSERT INTO t (v) VALUES ('new')")));
  it("an UPDATE that leaves the row count unchanged", () => seen(() => conn.query("UPDATE t SET v = 'changed' WHERE id = 7")));
  it("a delete and an insert (same row count)", () =>
    seen(() => conn.query("START TRANSACTION; DELETE FROM t WHERE id = 8; INSERT INTO t (v) VALUES ('x'); COMMIT")));
  it("DDL: a new column", () => seen(() => conn.query("ALTER TABLE t ADD COLUMN w int")));
  it("DDL: ALTER ... SET DEFAULT", () => seen(() => conn.query("ALTER TABLE t ALTER COLUMN v SET DEFAULT 'b'")));
  it("a trigger (a .TRG file: no redo; the schema digest sees it)", async () => {
    await settle();
    const before = await lsn();
    const why = await seen(() => conn.query("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = upper(NEW.v)"));
    expect(await lsn(), "CREATE TRIGGER wrote no redo: only the schema digest can see it").toBe(before);
    expect(why).toMatch(/schema/);
  });
  it("a transaction that wrote before the mark and commits after it", async () => {
    const other = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database: "um_sb_marks" });
    try {
      await other.query("START TRANSACTION");
      await other.query("UPDATE t SET v = 'in flight' WHERE id = 9");
      const mark = await adapter.changeMark();
      await other.query("COMMIT");
      if ("skipped" in mark) return; // a mark may refuse; then the seal fingerprints
      expect(await adapter.sinceMark(mark)).toMatchObject({ unchanged: false });
    } finally {
      await other.end();
    }
  });
  it("a write in another database on the same server: changed (the LSN is server-wide)", async () => {
    expect(await seen(() => conn.query("INSERT INTO um_sb_journal.events VALUES (1)"))).toMatch(/log sequence number/);
  });
  it("a MyISAM table: no mark (its writes leave no redo)", async () => {
    await conn.query("CREATE TABLE m (a int) ENGINE=MyISAM");
    expect(await adapter.changeMark()).toMatchObject({ skipped: expect.stringMatching(/m uses MyISAM/) });
    await conn.query("DROP TABLE m");
  });
});

describe("change marks on a dead MySQL server", () => {
  it("sinceMark throws E_CONNECT, with no password in the message", async () => {
    const target = parseDatabaseUrl("mysql://root:s3cret-pw@127.0.0.1:4539/um_sb_gone?connectTimeout=2000", "/");
    const adapter = createMysqlAdapter(target as Extract<DatabaseTarget, { dialect: "mysql" }>);
    const err = await caught(adapter.sinceMark({ how: "innodb-lsn", server: "x", lsn: "1", schema: "" }));
    expect(err.code).toBe("E_CONNECT");
    expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain("s3cret-pw");
    await adapter.close();
  });
});
