// PostgreSQL's template restore points (backupStrategy: "template"): a file copy on the server
// when nobody is connected, a pg_dump when the service still is (the hot backup), both
// restorable and fingerprinted without touching the live database, and dropped on request.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPostgresAdapter, type PostgresAdapter } from "../src/adapters/postgres/index.js";
import type { BackupArtifact, Fingerprint } from "../src/adapters/types.js";
import { runMigrations } from "../src/migrations/runner.js";
import { parseDatabaseUrl } from "../src/url.js";
import { SEED } from "./contract/adapter-contract.js";
import { folderWith } from "./contract/helpers.js";
import { shopMigrations } from "./contract/targets.js";
import { ADMIN_URL, createScratchDatabase, execSql, querySql, serverAvailable, type ScratchDatabase } from "./helpers/servers.js";

const available = await serverAvailable("postgres");

describe.skipIf(!available)("postgres template restore points", () => {
  let db: ScratchDatabase;
  let adapter: PostgresAdapter;
  let dir: string;
  beforeEach(async () => {
    db = await createScratchDatabase("postgres", "um_tpl");
    adapter = createPostgresAdapter(parseDatabaseUrl(db.url, "/") as never, { backupStrategy: "template" });
    dir = mkdtempSync(join(tmpdir(), "um-tpl-"));
    await runMigrations(adapter.migrationDriver(), folderWith(shopMigrations("pg"), 2, dir));
    await execSql("postgres", db.url, SEED);
  });
  afterEach(async () => {
    await adapter.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const fingerprintBackup = (artifact: BackupArtifact): Promise<Fingerprint> => {
    if (!adapter.capabilities.backupFingerprints) throw new Error("a template adapter fingerprints its backups");
    return adapter.fingerprintBackup(artifact);
  };
  const snapshots = async (): Promise<string[]> =>
    (
      await querySql<{ datname: string }>("postgres", ADMIN_URL.postgres, [
        `SELECT datname FROM pg_database WHERE datname LIKE '${db.name}\\_\\_um\\_%' ORDER BY 1`,
      ])
    ).map((r) => r.datname);

  it("with the service connected, the hot backup falls back to pg_dump; stopped, it is a file copy; both restore to the same fingerprint", async () => {
    const live = await adapter.fingerprint();
    const t = parseDatabaseUrl(db.url, "/") as { host: string; port: number; user?: string; database: string };
    const service = postgres({ host: t.host, port: t.port, user: t.user, database: t.database, max: 1, onnotice: () => undefined });
    let hot: BackupArtifact;
    try {
      await service`SELECT 1`; // the "service" holds a session on the database
      hot = await adapter.backup(dir, "hot");
    } finally {
      await service.end({ timeout: 1 });
    }
    expect(hot.format).toBe("pg_dump-custom");
    expect(await fingerprintBackup(hot)).toEqual(live); // through a scratch restore
    const cold = await adapter.backup(dir, "cold");
    expect(cold.format).toBe("pg-template-database");
    expect(await snapshots()).toHaveLength(1);
    expect(await fingerprintBackup(cold)).toEqual(live);

    await execSql("postgres", db.url, [`DELETE FROM customers`, `CREATE TABLE later (id int)`]);
    await adapter.restore(cold);
    expect(await adapter.fingerprint()).toEqual(live);
    await execSql("postgres", db.url, [`DELETE FROM orders`]);
    await adapter.restore(hot);
    expect(await adapter.fingerprint()).toEqual(live);
    await adapter.restore(cold); // the copy survives a restore, so it can be restored again
    expect(await adapter.fingerprint()).toEqual(live);

    await adapter.dropBackup(cold);
    expect(await snapshots()).toEqual([]);
    expect((await adapter.restore(cold).catch((e: { code?: string }) => e))?.code).toBe("E_RESTORE");
  });
});
