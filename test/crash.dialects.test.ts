import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openAdapter } from "../src/adapters/open.js";
import { runMigrations } from "../src/migrations/runner.js";
import { parseDatabaseUrl } from "../src/url.js";
import { shopMigrations } from "./contract/targets.js";
import { runCli } from "./helpers/example.js";
import { createScratchDatabase, execSql, serverAvailable, type ScratchDatabase, type ServerDialect } from "./helpers/servers.js";

/**
 * The spine's crash tests with the target on PostgreSQL and on MariaDB, and with the journal on
 * PostgreSQL: a database at the shop schema's first migration, upgraded to its last one (and a
 * failing migration that rolls back), killed with SIGKILL after every journal event, resumed.
 */
const started = (s: string) => [`step.started:${s}`, `step.succeeded:${s}`];
const skipped = (s: string) => [`step.succeeded:${s}`];
const FORWARD = [
  "run.requested",
  ...started("preflight"),
  ...started("backup"),
  ...skipped("announce"),
  ...skipped("grace"),
  ...skipped("stop"),
  ...started("seal"),
  ...skipped("upgradePackage"),
  ...started("migrate"),
  ...started("verify"),
  ...skipped("start"),
  ...skipped("health"),
  "run.completed",
];
const ROLLBACK = [
  ...FORWARD.slice(0, FORWARD.indexOf("step.started:migrate") + 1),
  "step.failed:migrate",
  ...skipped("stopNewVersion"),
  ...started("restoreDatabase"),
  ...skipped("restoreFiles"),
  ...skipped("reinstallPrevious"),
  ...skipped("startPrevious"),
  ...started("verifyRestore"),
  "run.rolledBack",
];

interface Setup {
  dir: string;
  config: string;
  fingerprint(): Promise<string>;
  cleanup(): Promise<void>;
}

async function prepare(dialect: ServerDialect, journalOnServer: boolean, broken: boolean, backup?: { strategy: "template" }): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `um-crash-${dialect}-`));
  const folderDialect = dialect === "postgres" ? "pg" : "mysql";
  const migrations = join(dir, "migrations");
  cpSync(shopMigrations(folderDialect), migrations, { recursive: true });
  const target = await createScratchDatabase(dialect, "um_crash");
  const dbs: ScratchDatabase[] = [target];
  // the database starts at the first migration, with data
  const first = join(dir, "first");
  cpSync(migrations, first, { recursive: true });
  const journalFile = join(first, "meta", "_journal.json");
  const j = JSON.parse(readFileSync(journalFile, "utf8"));
  j.entries = j.entries.slice(0, 1);
  writeFileSync(journalFile, JSON.stringify(j));
  const adapter = await openAdapter(parseDatabaseUrl(target.url, dir));
  await runMigrations(adapter.migrationDriver(), first);
  await adapter.close();
  const q = dialect === "postgres" ? '"' : "`";
  await execSql(dialect, target.url, [
    `INSERT INTO ${q}customers${q} (email, name) VALUES ('a@x', 'A'), ('b@x', 'B'), ('c@x', 'C')`,
    `INSERT INTO ${q}orders${q} (customer_id, total_cents) VALUES (1, 100), (1, 250), (2, 75)`,
    `INSERT INTO ${q}order_items${q} (order_id, sku, qty, price_cents) VALUES (1, 's1', 1, 100), (2, 's2', 2, 125), (3, 's3', 1, 75)`,
  ]);
  if (broken) {
    const mj = join(migrations, "meta", "_journal.json");
    const m = JSON.parse(readFileSync(mj, "utf8"));
    const last = m.entries[m.entries.length - 1];
    m.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: "0003_broken" });
    writeFileSync(mj, JSON.stringify(m));
    writeFileSync(join(migrations, "0003_broken.sql"), `ALTER TABLE ${q}customers${q} ADD ${q}broken${q} text;\n--> statement-breakpoint\nINSERT INTO ${q}no_such_table${q} VALUES (1);\n`);
  }
  let journal: string | undefined;
  if (journalOnServer) {
    const jdb = await createScratchDatabase("postgres", "um_journal");
    dbs.push(jdb);
    journal = jdb.url;
  }
  const config = join(dir, "upgrade.json");
  writeFileSync(config, JSON.stringify({ name: `shop-${dialect}`, database: target.url, migrations: { drizzle: "./migrations" }, ...(journal ? { journal } : {}), ...(backup ? { backup } : {}) }));
  return {
    dir,
    config,
    async fingerprint() {
      const a = await openAdapter(parseDatabaseUrl(target.url, dir));
      try {
        return (await a.fingerprint()).hash;
      } finally {
        await a.close();
      }
    },
    async cleanup() {
      for (const db of dbs) await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function keys(config: string): Promise<string[]> {
  const r = await runCli(["history", "--config", config, "--json"]);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)).map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}

const variants: { name: string; dialect: ServerDialect; journalOnServer: boolean; broken: boolean; backup?: { strategy: "template" } }[] = [
  { name: "target on PostgreSQL", dialect: "postgres", journalOnServer: false, broken: false },
  { name: "target on PostgreSQL, failing migration", dialect: "postgres", journalOnServer: false, broken: true },
  { name: "target on MariaDB", dialect: "mysql", journalOnServer: false, broken: false },
  { name: "target on MariaDB, failing migration", dialect: "mysql", journalOnServer: false, broken: true },
  { name: "target and journal on PostgreSQL", dialect: "postgres", journalOnServer: true, broken: false },
  { name: "target on PostgreSQL with template restore points, failing migration", dialect: "postgres", journalOnServer: false, broken: true, backup: { strategy: "template" } },
];

for (const v of variants) {
  describe(`crash at every boundary, then resume: ${v.name}`, async () => {
    const available = (await serverAvailable(v.dialect)) && (!v.journalOnServer || (await serverAvailable("postgres")));
    const events = v.broken ? ROLLBACK : FORWARD;
    let setup: Setup | undefined;
    afterEach(async () => {
      await setup?.cleanup();
      setup = undefined;
    });
    for (const boundary of events) {
      it.skipIf(!available)(`crash after ${boundary}`, async () => {
        setup = await prepare(v.dialect, v.journalOnServer, v.broken, v.backup);
        const before = await setup.fingerprint();
        const crashed = await runCli(["run", "--config", setup.config], { UPGRADE_MACHINE_CRASH_AFTER: boundary });
        expect(crashed.signal, crashed.stderr).toBe("SIGKILL");
        expect((await keys(setup.config)).at(-1)).toBe(boundary);
        const resumed = await runCli(["resume", "--config", setup.config, "--json"]);
        expect(resumed.code, resumed.stdout + resumed.stderr).toBe(v.broken ? 1 : 0);
        const expected = [...events];
        if (boundary.startsWith("step.started:")) expected.splice(expected.indexOf(boundary) + 1, 0, boundary);
        expect(await keys(setup.config)).toEqual(expected);
        const after = await setup.fingerprint();
        if (v.broken) expect(after).toBe(before);
        else expect(after).not.toBe(before);
        const plan = await runCli(["plan", "--config", setup.config, "--json"]);
        const pending = JSON.parse(plan.stdout).pendingMigrations as string[];
        expect(pending.length).toBe(v.broken ? 3 : 0);
      });
    }
  });
}
