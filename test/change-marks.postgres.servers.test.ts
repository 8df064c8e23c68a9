// PostgreSQL change marks (issue 11): a mark, then each kind of write, is seen by sinceMark; no
// write (or writes of other databases, when pg_walinspect is installed in the maintenance
// database) is proven unchanged. Run on: this machine's PostgreSQL 15 with pg_walinspect in
// `postgres` (created here: the test setup may), the same server without it (a maintenance
// database that lacks it), a private idle PostgreSQL 15 (LSN equality is only testable where
// nobody else writes), and the npm majors 14 and 18 when UM_TEST_PG_MAJORS starts them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresAdapter, type PostgresAdapter, type PostgresTarget } from "../src/adapters/postgres/index.js";
import type { ChangeMark, MarkCheck } from "../src/adapters/types.js";
import { parseDatabaseUrl } from "../src/url.js";
import { caught } from "./contract/helpers.js";
import { debianBinaries, startCluster, type PgCluster } from "./helpers/pg-cluster.js";
import { pgMajors } from "./helpers/pg-majors.js";
import { ADMIN_URL, createScratchDatabase, execSql, serverAvailable, type ScratchDatabase } from "./helpers/servers.js";

const PRIVATE_PORT = 4521;
const SEED = [
  "CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL DEFAULT 'a')",
  "INSERT INTO t (v) SELECT 'row ' || g FROM generate_series(1, 100) g",
  "CREATE SEQUENCE s",
  "SELECT nextval('s')", // logged once: the next 32 calls write no WAL
];

interface Config {
  name: string;
  /** The admin URL, resolved in beforeAll (a private server starts there). */
  url: () => Promise<string>;
  walinspect: boolean;
  /** Only this file writes to the server: an unchanged insert LSN is testable. */
  quiet: boolean;
  available: boolean;
  /** This machine's pg_dump can dump it (Debian's 15 serves 14 and 15). */
  dumpTools: boolean;
}

let privateServer: PgCluster | undefined;
const debian15 = debianBinaries(15);
const shared = await serverAvailable("postgres");
const majors = await pgMajors();
const configs: Config[] = [
  {
    name: "PostgreSQL 15 with pg_walinspect",
    url: async () => ADMIN_URL.postgres,
    walinspect: true,
    quiet: false,
    available: shared,
    dumpTools: true,
  },
  {
    name: "PostgreSQL 15 without pg_walinspect",
    url: async () => ADMIN_URL.postgres,
    walinspect: false,
    quiet: false,
    available: shared,
    dumpTools: true,
  },
  {
    name: "a private idle PostgreSQL 15 without pg_walinspect",
    url: async () => {
      if ("missing" in debian15) throw new Error(debian15.missing);
      privateServer ??= await startCluster(debian15, { port: PRIVATE_PORT, fast: true, conf: ["autovacuum = off"] });
      return privateServer.adminUrl;
    },
    walinspect: false,
    quiet: true,
    available: !("missing" in debian15) || !!process.env.CI,
    dumpTools: true,
  },
  ...majors
    .filter((m) => m.major === 14 || m.major === 18)
    .map((m) => ({
      name: `PostgreSQL ${m.major}`,
      url: async () => m.adminUrl,
      walinspect: m.major >= 15,
      quiet: false,
      available: m.available,
      dumpTools: m.dumpTools,
    })),
];
if ("missing" in debian15 && !process.env.CI)
  console.warn(`\n!! SKIPPING the private PostgreSQL 15 change-mark tests: ${debian15.missing}\n`);
afterAll(async () => privateServer?.stop());

const markOf = (m: Awaited<ReturnType<PostgresAdapter["changeMark"]>>): ChangeMark => {
  if ("skipped" in m) throw new Error(`no mark: ${m.skipped}`);
  return m;
};

for (const config of configs) {
  describe.skipIf(!config.available)(`change marks on ${config.name}`, () => {
    let adminUrl: string;
    let maintenance = "postgres";
    let maintDb: ScratchDatabase | undefined;
    let db: ScratchDatabase;
    let adapter: PostgresAdapter;
    let sql: postgres.Sql;
    beforeAll(async () => {
      adminUrl = await config.url();
      if (config.walinspect) await execSql("postgres", adminUrl, ["CREATE EXTENSION IF NOT EXISTS pg_walinspect"]);
      else if (!config.quiet && config.name.includes("15")) {
        maintDb = await createScratchDatabase("postgres", "um_sb_maint", adminUrl); // no pg_walinspect there
        maintenance = maintDb.name;
      }
    }, 120_000);
    afterAll(async () => maintDb?.drop());

    const fresh = async (): Promise<void> => {
      db = await createScratchDatabase("postgres", "um_sb_mark", adminUrl);
      await execSql("postgres", db.url, SEED);
      adapter = createPostgresAdapter(parseDatabaseUrl(db.url, "/") as PostgresTarget, { maintenanceDatabase: maintenance });
      sql = postgres(db.url, { max: 2, onnotice: () => undefined });
    };
    const cleanup = async (): Promise<void> => {
      await adapter.close();
      await sql.end({ timeout: 1 });
      await db.drop();
    };

    /** Marks, runs `write`, and expects sinceMark to see a change; returns its `why`. */
    const seen = async (write: () => Promise<unknown>): Promise<string> => {
      const mark = markOf(await adapter.changeMark());
      await write();
      const check = await adapter.sinceMark(mark);
      expect(check, `a write after the mark must be seen (mark ${JSON.stringify(mark)})`).toMatchObject({ unchanged: false });
      return (check as { why: string }).why;
    };
    /** Marks, runs `between`, expects sinceMark to prove nothing changed (retried: background writes of a shared server count). */
    const unchangedAcross = async (
      between: () => Promise<unknown> = async () => undefined,
      on: PostgresAdapter = adapter,
    ): Promise<void> => {
      const whys: string[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const mark = markOf(await on.changeMark());
        await between();
        const check: MarkCheck = await on.sinceMark(mark);
        if (check.unchanged) {
          if (whys.length > 0) console.warn(`unchanged on attempt ${whys.length + 1}; before: ${whys.join(" | ")}`);
          return;
        }
        whys.push(check.why);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect.fail(`never proven unchanged: ${whys.join(" | ")}`);
    };

    describe("each kind of write after the mark is seen", () => {
      beforeAll(fresh, 60_000);
      afterAll(cleanup);
      it("an insert", () => seen(() => sql`INSERT INTO t (v) VALUES ('new')`));
      it("an UPDATE that leaves the row count unchanged", () => seen(() => sql`UPDATE t SET v = 'changed' WHERE id = 7`));
      it("a delete and an insert (same row count)", () =>
        seen(() => sql.begin((tx) => [tx`DELETE FROM t WHERE id = 8`, tx`INSERT INTO t (v) VALUES ('x')`])));
      it("DDL: a new column", () => seen(() => sql`ALTER TABLE t ADD COLUMN w int`));
      it("DDL: ALTER ... SET DEFAULT", () => seen(() => sql`ALTER TABLE t ALTER COLUMN v SET DEFAULT 'b'`));
      it("nextval inside the range the sequence pre-logged (no WAL)", async () => {
        const [state] = await sql<{ log_cnt: string }[]>`SELECT log_cnt::text FROM s`;
        expect(Number(state?.log_cnt), "values left in the pre-logged range: this nextval writes no WAL").toBeGreaterThan(0);
        // seen by the sequence digest, which sinceMark checks before the WAL
        expect(await seen(() => sql`SELECT nextval('s')`)).toMatch(/sequence/);
      });
      it("a transaction that wrote before the mark and commits after it", async () => {
        const [pending] = await sql.reserve().then((c) => [c]);
        try {
          await pending!`BEGIN`;
          await pending!`UPDATE t SET v = 'in flight' WHERE id = 9`;
          const mark = await adapter.changeMark();
          await pending!`COMMIT`;
          if ("skipped" in mark) return; // a mark may refuse; then the seal fingerprints
          expect(await adapter.sinceMark(mark)).toMatchObject({ unchanged: false });
        } finally {
          pending!.release();
        }
      });
      it("a setval to another value", () => seen(() => sql`SELECT setval('s', 1000)`));
      it("a table made UNLOGGED gets no mark (its writes leave no WAL)", async () => {
        await sql`CREATE UNLOGGED TABLE u (a int)`;
        const mark = await adapter.changeMark();
        expect(mark).toMatchObject({ skipped: expect.stringMatching(/UNLOGGED/) });
        await sql`DROP TABLE u`;
      });
    });

    describe("no write, or writes elsewhere", () => {
      let other: ScratchDatabase;
      let dir: string;
      beforeAll(async () => {
        await fresh();
        other = await createScratchDatabase("postgres", "um_sb_journal", adminUrl);
        await execSql("postgres", other.url, ["CREATE TABLE events (seq int PRIMARY KEY, payload text)"]);
        dir = mkdtempSync(join(tmpdir(), "um-marks-"));
      }, 60_000);
      afterAll(async () => {
        await cleanup();
        await other.drop();
        rmSync(dir, { recursive: true, force: true });
      });
      let seq = 0;
      const append = () => execSql("postgres", other.url, [`INSERT INTO events VALUES (${++seq}, 'journal append')`]);

      it.skipIf(!config.walinspect && !config.quiet)("nothing written: unchanged", () => unchangedAcross());
      it.skipIf((!config.walinspect && !config.quiet) || !config.dumpTools)("a pg_dump hot backup between: unchanged", async () => {
        await unchangedAcross(() => adapter.hotBackup(dir, `b${seq++}`));
      });
      if (config.walinspect) {
        it("a journal append in another database on the same server: unchanged", () => unchangedAcross(append));
        it("WAL since the mark already recycled: changed with the server's reason, not an error", async () => {
          const mark = { ...markOf(await adapter.changeMark()), lsn: "0/10", settled: "0/10" };
          await append();
          const check = await adapter.sinceMark(mark);
          expect(check).toMatchObject({ unchanged: false, why: expect.stringMatching(/could not be checked|removed|valid record/) });
        });
        it("a template-copy restore point (CREATE DATABASE ... FILE_COPY) between: unchanged", async () => {
          const template = createPostgresAdapter(parseDatabaseUrl(db.url, "/") as PostgresTarget, { backupStrategy: "template" });
          await sql.end({ timeout: 1 }); // a template copy needs no other session on the database
          await adapter.close();
          try {
            await unchangedAcross(async () => {
              const artifact = await template.hotBackup(dir, `t${seq++}`);
              expect(artifact).toMatchObject({ format: "pg-template-database" });
            }, template);
          } finally {
            await template.close();
            sql = postgres(db.url, { max: 2, onnotice: () => undefined });
          }
        });
        describe.skipIf(!config.dumpTools)("the template strategy's hot backup with the service connected", () => {
          // With a session on the database a template copy is refused: the hot backup is a dump,
          // proven by restoring it into a scratch database (CREATE DATABASE, pg_restore, DROP),
          // whose RelMap and Storage records name the scratch database's OID.
          const hotAndProof = async (template: PostgresAdapter) => {
            await sql`SELECT 1`; // the service's connection is open
            const artifact = await template.hotBackup(dir, `d${seq++}`);
            expect(artifact, "a session is connected: the hot backup is a dump").toMatchObject({ format: "pg_dump-custom" });
            await template.fingerprintBackup(artifact as Parameters<PostgresAdapter["fingerprintBackup"]>[0]);
          };
          const templateAdapter = () =>
            createPostgresAdapter(parseDatabaseUrl(db.url, "/") as PostgresTarget, { backupStrategy: "template" });

          it("nothing written: unchanged", async () => {
            const template = templateAdapter();
            try {
              await unchangedAcross(() => hotAndProof(template), template);
            } finally {
              await template.close();
            }
          });
          it("a write to the database after it: changed", async () => {
            const template = templateAdapter();
            try {
              // Retried only when a checkpoint of the shared server recycled the WAL since the
              // mark (the scratch database's DROP checkpoints): then the why is not the write's.
              let check: MarkCheck = { unchanged: true };
              for (let attempt = 0; attempt < 3; attempt++) {
                const mark = markOf(await template.changeMark());
                await hotAndProof(template);
                await sql`UPDATE t SET v = ${`after the hot backup ${attempt}`} WHERE id = 11`;
                check = await template.sinceMark(mark);
                if (check.unchanged || !/could not be checked/.test(check.why)) break;
              }
              expect(check).toMatchObject({ unchanged: false, why: expect.stringMatching(/wrote relation file \d+ of the database/) });
            } finally {
              await template.close();
            }
          });
          it("the mark renewed after it (as the backup step keeps it): a write after is changed, nothing written is unchanged", async () => {
            const template = templateAdapter();
            try {
              let renewed: ChangeMark | undefined;
              const whys: string[] = [];
              for (let attempt = 0; attempt < 5 && !renewed; attempt++) {
                const mark = markOf(await template.changeMark());
                await hotAndProof(template);
                const check = await template.sinceMark(mark);
                if (check.unchanged) {
                  expect(check.renewed, "an unchanged check across WAL renews the mark").toBeDefined();
                  renewed = check.renewed;
                } else whys.push(check.why);
              }
              if (!renewed) return expect.fail(`never proven unchanged: ${whys.join(" | ")}`);
              expect(await template.sinceMark(renewed), "nothing written since the renewed mark").toMatchObject({ unchanged: true });
              await sql`UPDATE t SET v = 'after the renewed mark' WHERE id = 12`;
              expect(await template.sinceMark(renewed)).toMatchObject({
                unchanged: false,
                why: expect.stringMatching(/wrote relation file \d+ of the database/),
              });
            } finally {
              await template.close();
            }
          });
        });
      } else {
        it("a journal append in another database: changed, and the why says how to make it O(changed)", async () => {
          const why = await seen(append);
          expect(why).toMatch(/CREATE EXTENSION pg_walinspect/);
        });
      }
    });
  });
}

describe.skipIf(!shared)("change marks on a dead PostgreSQL server", () => {
  it("sinceMark throws E_CONNECT, with no password in the message", async () => {
    const target = parseDatabaseUrl("postgres://postgres:s3cret-pw@127.0.0.1:4539/um_sb_gone?connect_timeout=2", "/") as PostgresTarget;
    const adapter = createPostgresAdapter(target);
    const mark = { how: "postgres-wal", server: "1", database: 1, lsn: "0/1", settled: "0/1", writers: [], sequences: "" };
    const err = await caught(adapter.sinceMark(mark));
    expect(err.code).toBe("E_CONNECT");
    expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toContain("s3cret-pw");
    await adapter.close();
  });
});
