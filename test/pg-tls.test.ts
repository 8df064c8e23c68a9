// TLS to PostgreSQL, for the driver and for the client tools: a local server with TLS on, its own
// CA and certificate (for 127.0.0.1 and localhost, not 127.0.0.2), that refuses every connection
// without TLS. `sslmode=require` and `verify-full` with `sslrootcert` work through the adapter
// (postgres.js) and through pg_dump / pg_restore (PGSSLMODE, PGSSLROOTCERT); a certificate from
// another CA, or for another host name, is refused by both.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupPostgres, createPostgresAdapter, findPgClientTools, openPg, type PostgresTarget } from "../src/adapters/postgres/index.js";
import { parseDatabaseUrl } from "../src/url.js";
import { SEED } from "./contract/adapter-contract.js";
import { caught } from "./contract/helpers.js";
import { debianBinaries, npmBinaries, startCluster, type PgCluster } from "./helpers/pg-cluster.js";
import { createScratchDatabase, execSql, type ScratchDatabase } from "./helpers/servers.js";
import { makeCertificates, type TestCertificates } from "./helpers/tls.js";
import { runMigrations } from "../src/migrations/runner.js";
import { shopMigrations } from "./contract/targets.js";
import { folderWith } from "./contract/helpers.js";

const TLS_PORT = 5419;
// Debian's 15 (this machine's pg_dump 15 serves it), else 14 from npm.
const debian = debianBinaries(15);
const bin = "missing" in debian ? await npmBinaries(14) : debian;
if ("missing" in bin && !process.env.CI) console.warn(`\n!! SKIPPING the PostgreSQL TLS tests: ${bin.missing}\n`);

describe.skipIf("missing" in bin && !process.env.CI)("PostgreSQL over TLS: driver and client tools", () => {
  let server: PgCluster;
  let certs: TestCertificates;
  let otherCa: TestCertificates;
  let db: ScratchDatabase;
  let dir: string;
  beforeAll(async () => {
    if ("missing" in bin) throw new Error(`no PostgreSQL server binaries for the TLS test: ${bin.missing}`);
    [certs, otherCa] = await Promise.all([
      makeCertificates("upgrade-machine test CA", { dns: ["localhost"], ip: ["127.0.0.1"] }),
      makeCertificates("another CA", { dns: ["localhost"], ip: ["127.0.0.1"] }),
    ]);
    server = await startCluster(bin, {
      port: TLS_PORT,
      fast: true,
      conf: ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "listen_addresses = '127.0.0.1,127.0.0.2'"],
      hba: ["hostssl all all 127.0.0.1/32 trust", "hostssl all all 127.0.0.2/32 trust", "hostnossl all all 0.0.0.0/0 reject"],
      files: { "server.crt": certs.serverCert, "server.key": certs.serverKey },
    });
    // the admin connection of the helpers uses TLS too (the server refuses anything else)
    db = await createScratchDatabase("postgres", "um_tls", `${server.adminUrl}?sslmode=require`);
    dir = mkdtempSync(join(tmpdir(), "um-tls-run-"));
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    await server?.stop();
    for (const d of [certs?.dir, otherCa?.dir, dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const target = (host: string, params: string, base = "/"): PostgresTarget =>
    parseDatabaseUrl(`postgres://postgres@${host}:${server.port}/${db.name}?${params}`, base) as PostgresTarget;
  /** Whether the driver's connection to `t` is encrypted, as the server sees it. */
  const encrypted = async (t: PostgresTarget): Promise<boolean> => {
    const sql = await openPg(t, 1);
    try {
      const [row] = await sql<{ ssl: boolean }[]>`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
      return row?.ssl === true;
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  it("the server refuses a connection without TLS", async () => {
    const adapter = createPostgresAdapter(target("127.0.0.1", "sslmode=disable"));
    try {
      const err = await caught(adapter.check());
      expect(err.message).toMatch(/no encryption/);
    } finally {
      await adapter.close();
    }
  });

  it("sslmode=require: the driver and pg_dump / pg_restore connect over TLS; a backup, a change and a restore round trip", async () => {
    const t = target("127.0.0.1", "sslmode=require");
    expect(await encrypted(t)).toBe(true);
    const adapter = createPostgresAdapter(t);
    try {
      await runMigrations(adapter.migrationDriver(), folderWith(shopMigrations("pg"), 2, dir));
      await execSql("postgres", db.url, SEED);
      const before = await adapter.fingerprint();
      const artifact = await adapter.backup(join(dir, "require"), "point"); // pg_dump, through PGSSLMODE=require
      expect(artifact.format).toBe("pg_dump-custom");
      await execSql("postgres", db.url, ["DELETE FROM order_items"]);
      await adapter.restore(artifact); // pg_restore, same way
      expect(await adapter.fingerprint()).toEqual(before);
    } finally {
      await adapter.close();
    }
  });

  it("verify-full with sslrootcert (relative to the config): both verify the server against the CA, by IP and by host name", async () => {
    const configDir = join(dir, "conf");
    mkdirSync(configDir, { recursive: true });
    const rel = relative(configDir, certs.caPath);
    for (const host of ["127.0.0.1", "localhost"]) {
      const t = target(host, `sslmode=verify-full&sslrootcert=${encodeURIComponent(rel)}`, configDir);
      expect(t.params.sslrootcert).toBe(certs.caPath);
      expect(await encrypted(t)).toBe(true);
      const adapter = createPostgresAdapter(t);
      try {
        const artifact = await adapter.backup(join(dir, `verify-${host}`), "point");
        await adapter.restore(artifact);
      } finally {
        await adapter.close();
      }
    }
  });

  it("verify-full refuses a certificate signed by another CA, or issued for another host name (verify-ca accepts that one); so do the client tools", async () => {
    const tools = await findPgClientTools(150000);
    if (!tools.chosen) throw new Error(`no pg_dump: ${tools.rejected.join("; ")}`);
    const pgDump = tools.chosen.pgDump;
    const refused = async (t: PostgresTarget, why: RegExp): Promise<void> => {
      const adapter = createPostgresAdapter(t);
      try {
        const err = await caught(adapter.check());
        expect(err.code).toBe("E_CONNECT");
        expect(err.message).toMatch(why);
      } finally {
        await adapter.close();
      }
      const tool = await caught(backupPostgres(t, pgDump, join(dir, "refused"), "point"));
      expect(tool.code).toBe("E_CONNECT");
      expect(String(tool.details?.stderr)).toMatch(/certificate|server name|SSL/i);
    };
    await refused(target("127.0.0.1", `sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa.caPath)}`), /certificate/i);
    // 127.0.0.2 is the same server, but not a name its certificate carries
    await refused(
      target("127.0.0.2", `sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caPath)}`),
      /127\.0\.0\.2|altnames|hostname/i,
    );
    const ca = target("127.0.0.2", `sslmode=verify-ca&sslrootcert=${encodeURIComponent(certs.caPath)}`);
    expect(await encrypted(ca)).toBe(true);
    const artifact = await backupPostgres(ca, pgDump, join(dir, "verify-ca"), "point");
    expect(artifact.bytes).toBeGreaterThan(0);
  });
});
