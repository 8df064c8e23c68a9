// The WAL since a PostgreSQL change mark is kept to its check (issue 11): a checkpoint that
// recycles the WAL between the mark and the check (wal_keep_size = 0 here) no longer turns the
// seal into a full fingerprint, and the check stays exact. The recycling is forced: WAL written in
// another database, pg_switch_wal() and CHECKPOINT, and the test proves the mark's segment would
// be gone (the role without REPLICATION) or is still there (the slot). Run on this machine's
// PostgreSQL 15 with pg_walinspect in `postgres`; no slot of ours is left at the end.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresAdapter, type PostgresTarget } from "../src/adapters/postgres/index.js";
import type { PgChangeMark } from "../src/adapters/postgres/change-mark.js";
import { parseLsn } from "../src/adapters/postgres/wal-records.js";
import { SLOT_PREFIX } from "../src/adapters/postgres/wal-slot.js";
import type { ChangeMark, MarkCheck, SkippedMark } from "../src/adapters/types.js";
import { parseDatabaseUrl } from "../src/url.js";
import {
  ADMIN_URL,
  createScratchDatabase,
  execSql,
  querySql,
  randomName,
  serverAvailable,
  type ScratchDatabase,
} from "./helpers/servers.js";

const MARK_CHILD = fileURLToPath(new URL("./fixtures/postgres/mark-child.ts", import.meta.url));
const shared = await serverAvailable("postgres");

const pgMark = (m: ChangeMark | SkippedMark): PgChangeMark => {
  if ("skipped" in m) throw new Error(`no mark: ${m.skipped}`);
  return m as PgChangeMark;
};

describe.skipIf(!shared)("the WAL since a PostgreSQL change mark, kept by a temporary slot", () => {
  let db: ScratchDatabase;
  let other: ScratchDatabase;
  let sql: postgres.Sql;
  const role = randomName("um_slot_norepl");
  const open = (url = db.url) => createPostgresAdapter(parseDatabaseUrl(url, "/") as PostgresTarget);
  const ours = async (): Promise<{ slot_name: string; restart: string }[]> =>
    querySql("postgres", ADMIN_URL.postgres, [
      `SELECT slot_name, restart_lsn::text AS restart FROM pg_replication_slots WHERE slot_name LIKE '${SLOT_PREFIX}%'`,
    ]);
  /** Whether the WAL segment holding `lsn` is still in pg_wal. */
  const segmentKept = async (lsn: string): Promise<boolean> => {
    const [row] = await querySql<{ kept: boolean }>("postgres", ADMIN_URL.postgres, [
      `SELECT EXISTS (SELECT 1 FROM pg_ls_waldir() WHERE name = pg_walfile_name('${lsn}'::pg_lsn)) AS kept`,
    ]);
    return row!.kept;
  };
  /** Forces the recycling of every WAL segment no slot keeps, writing nothing to the target. */
  const recycle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await execSql("postgres", other.url, ["INSERT INTO noise SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g"]);
      await execSql("postgres", ADMIN_URL.postgres, ["SELECT pg_switch_wal()", "CHECKPOINT"]);
    }
  };

  /**
   * Runs `scenario` again (a few times) when a commit elsewhere on the shared server landed
   * inside the mark itself: that conservative "changed" is not what this file tests.
   */
  const settled = async (scenario: () => Promise<MarkCheck>): Promise<MarkCheck> => {
    let check: MarkCheck = { unchanged: false, why: "not run" };
    for (let i = 0; i < 5; i++) {
      check = await scenario();
      if (check.unchanged || !/committed while the mark was being taken/.test(check.why)) break;
    }
    return check;
  };

  beforeAll(async () => {
    await execSql("postgres", ADMIN_URL.postgres, ["CREATE EXTENSION IF NOT EXISTS pg_walinspect"]);
    db = await createScratchDatabase("postgres", "um_slot_mark");
    other = await createScratchDatabase("postgres", "um_slot_other");
    await execSql("postgres", db.url, [
      "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL)",
      "INSERT INTO t (v) SELECT 'row ' || g FROM generate_series(1, 100) g",
      `CREATE ROLE ${role} LOGIN`,
      `GRANT pg_read_server_files, pg_monitor TO ${role}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`,
      `GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
    ]);
    await execSql("postgres", other.url, ["CREATE TABLE noise (id int, v text)"]);
    sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  }, 60_000);
  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await db?.drop();
    await other?.drop();
    await execSql("postgres", ADMIN_URL.postgres, [`DROP ROLE IF EXISTS ${role}`]);
    expect(await ours()).toEqual([]);
  }, 60_000);

  it("nothing written to the database, the WAL recycled: unchanged, read from the WAL the slot kept", async () => {
    const adapter = open();
    try {
      let mark = pgMark(await adapter.changeMark());
      const check = await settled(async () => {
        mark = pgMark(await adapter.changeMark());
        await recycle();
        return adapter.sinceMark(mark);
      });
      expect(check).toMatchObject({ unchanged: true });
      expect(mark).toMatchObject({ walKept: true, slot: expect.stringMatching(new RegExp(`^${SLOT_PREFIX}\\d+$`)) });
      expect(await segmentKept(mark.lsn)).toBe(true);
    } finally {
      await adapter.close();
    }
  }, 60_000);

  it("the slot is created before the mark's LSN is read, and moved to a renewed mark", async () => {
    const adapter = open();
    try {
      const first = pgMark(await adapter.changeMark());
      const [slot] = (await ours()).filter((s) => s.slot_name === first.slot);
      expect(parseLsn(slot!.restart) <= parseLsn(first.lsn)).toBe(true);
      let mark = first;
      const check = await settled(async () => {
        mark = pgMark(await adapter.changeMark());
        await execSql("postgres", other.url, ["INSERT INTO noise VALUES (1, 'moves the insert position')"]);
        return adapter.sinceMark(mark);
      });
      if (!check.unchanged || !check.renewed) throw new Error(`not renewed: ${JSON.stringify(check)}`);
      const renewed = check.renewed as PgChangeMark;
      const [moved] = (await ours()).filter((s) => s.slot_name === mark.slot);
      expect(parseLsn(moved!.restart)).toBeGreaterThan(parseLsn(mark.lsn));
      expect(parseLsn(moved!.restart) <= parseLsn(renewed.lsn)).toBe(true);
      await recycle();
      expect(await settled(async () => adapter.sinceMark(renewed))).toMatchObject({ unchanged: true });
    } finally {
      await adapter.close();
    }
  }, 60_000);

  let inserted = 0;
  for (const [what, write] of [
    ["an UPDATE that keeps the row count", () => sql`UPDATE t SET v = 'changed' WHERE id = 7`],
    [
      "a delete and an insert (same row count)",
      () => sql.begin((tx) => [tx`DELETE FROM t WHERE id = 8`, tx`INSERT INTO t (id, v) VALUES (${1000 + ++inserted}, 'new')`]),
    ],
  ] as const) {
    it(`${what} after the mark, then the WAL recycled: still seen`, async () => {
      const adapter = open();
      try {
        const check = await settled(async () => {
          const mark = pgMark(await adapter.changeMark());
          await write();
          await recycle();
          return adapter.sinceMark(mark);
        });
        expect(check).toMatchObject({
          unchanged: false,
          why: expect.stringMatching(/wrote relation file \d+ of the database/),
        });
      } finally {
        await adapter.close();
      }
    }, 60_000);
  }

  it("a user without REPLICATION: no slot, the mark says why, and the recycled WAL is a fallback, never an error or a wrong answer", async () => {
    const url = new URL(db.url);
    url.username = role;
    url.password = "";
    const adapter = open(url.toString());
    try {
      const mark = pgMark(await adapter.changeMark());
      expect(mark).toMatchObject({ walKept: false, walKeptWhy: expect.stringMatching(/neither REPLICATION nor superuser/) });
      expect(mark.slot).toBeUndefined();
      await recycle();
      expect(await segmentKept(mark.lsn)).toBe(false); // the defect this file is about, reproduced
      expect(await adapter.sinceMark(mark)).toMatchObject({
        unchanged: false,
        why: expect.stringMatching(/could not be checked[\s\S]*the WAL was not kept: this user has neither REPLICATION/),
      });
    } finally {
      await adapter.close();
    }
  }, 60_000);

  it("forgetMarks and close drop the slot", async () => {
    const adapter = open();
    const mark = pgMark(await adapter.changeMark());
    expect((await ours()).map((s) => s.slot_name)).toContain(mark.slot);
    await adapter.forgetMarks?.();
    expect((await ours()).map((s) => s.slot_name)).not.toContain(mark.slot);
    const again = pgMark(await adapter.changeMark()); // a later mark gets a slot again
    expect(again.walKept).toBe(true);
    await adapter.close();
    expect((await ours()).map((s) => s.slot_name)).not.toContain(again.slot);
  }, 60_000);

  it("an orchestrator killed between the mark and the check: its slot is gone with it, and the check of a resume falls back (exact)", async () => {
    const child = spawn(process.execPath, ["--import", import.meta.resolve("jiti/register"), MARK_CHILD, db.url], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]!);
      });
      child.on("exit", (code) => reject(new Error(`the child exited (${code}) before printing a mark`)));
    });
    const mark = pgMark(JSON.parse(line) as ChangeMark);
    expect((await ours()).map((s) => s.slot_name)).toContain(mark.slot);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    for (let i = 0; i < 100 && (await ours()).some((s) => s.slot_name === mark.slot); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await ours()).map((s) => s.slot_name)).not.toContain(mark.slot);
    await recycle();
    const resumed = open();
    try {
      expect(await resumed.sinceMark(mark)).toMatchObject({
        unchanged: false,
        why: expect.stringMatching(/the WAL was not kept: its slot \S+ is gone/),
      });
    } finally {
      await resumed.close();
    }
  }, 60_000);
});
