// Template restore points use CREATE DATABASE ... STRATEGY FILE_COPY where the server has it (15+),
// seen from the server itself: a FILE_COPY copy writes almost no WAL (it copies the files after a
// checkpoint), while the default WAL_LOG writes every page of the database to the WAL. The copy
// of a database of some 20 MB must stay under a quarter of that in WAL; a WAL_LOG copy of the same
// database, measured the same way, writes at least half of it (so the measure can tell them apart).
// On 14, which has no STRATEGY, the copy is a file copy (the contract suite runs it there).
import { describe, expect, it } from "vitest";
import { createPostgresAdapter, type PostgresTarget } from "../src/adapters/postgres/index.js";
import { parseDatabaseUrl } from "../src/url.js";
import { pgMajors } from "./helpers/pg-majors.js";
import { createScratchDatabase, execSql, querySql } from "./helpers/servers.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

for (const m of (await pgMajors()).filter((m) => m.major >= 15)) {
  describe.skipIf(!m.available)(`PostgreSQL ${m.major}: template copies`, () => {
    it("are FILE_COPY copies: a fraction of the WAL a WAL_LOG copy of the same database writes", async () => {
      const db = await createScratchDatabase("postgres", "um_copy", m.adminUrl);
      const dir = mkdtempSync(join(tmpdir(), "um-copy-"));
      const adapter = createPostgresAdapter(parseDatabaseUrl(db.url, "/") as PostgresTarget, { backupStrategy: "template" });
      const walLog = `${db.name}_wal_log`;
      try {
        await execSql("postgres", db.url, [
          `CREATE TABLE t AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 250000) g`,
          "CHECKPOINT",
        ]);
        const [size] = await querySql<{ b: string }>("postgres", m.adminUrl, [`SELECT pg_database_size('${db.name}')::text AS b`]);
        const bytes = Number(size?.b);
        expect(bytes).toBeGreaterThan(15 * 2 ** 20);
        const walOf = async (fn: () => Promise<unknown>): Promise<number> => {
          const [start] = await querySql<{ lsn: string }>("postgres", m.adminUrl, ["SELECT pg_current_wal_insert_lsn()::text AS lsn"]);
          await fn();
          const [row] = await querySql<{ d: string }>("postgres", m.adminUrl, [
            `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '${start?.lsn}')::text AS d`,
          ]);
          return Number(row?.d);
        };
        const copy = await walOf(() => adapter.backup(dir, "point"));
        const logged = await walOf(() =>
          execSql("postgres", m.adminUrl, [`CREATE DATABASE "${walLog}" TEMPLATE "${db.name}" STRATEGY WAL_LOG`]),
        );
        expect(logged).toBeGreaterThan(bytes / 2);
        expect(copy).toBeLessThan(bytes / 4);
      } finally {
        await adapter.close();
        await execSql("postgres", m.adminUrl, [`DROP DATABASE IF EXISTS "${walLog}"`]);
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
