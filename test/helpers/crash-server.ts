// The crash-at-every-boundary scenario with the target on a database server (PostgreSQL on any
// major, MariaDB): a database at the shop schema's first migration with data, a config that
// upgrades it to the last migration (or to a failing one, which rolls back), and the journal's
// event keys. Used by test/crash.dialects.test.ts and test/crash.pg-majors.test.ts.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openAdapter } from "../../src/adapters/registry.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { shopMigrations } from "../contract/targets.js";
import { runCli } from "./example.js";
import { createScratchDatabase, execSql, type ScratchDatabase, type ServerDialect } from "./servers.js";

const started = (s: string) => [`step.started:${s}`, `step.succeeded:${s}`];
const skipped = (s: string) => [`step.succeeded:${s}`];
/** Every event of a completed upgrade of the shop database (no service, no package: those steps are skipped). */
export const FORWARD = [
  "run.requested",
  ...started("preflight"),
  ...started("backup"),
  ...started("lint"),
  ...started("rehearse"),
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
/** Every event of an upgrade whose migration fails, rolled back (the rehearsal turned off: it would abort the run before the stop). */
export const ROLLBACK = [
  ...FORWARD.slice(0, FORWARD.indexOf("step.started:rehearse")),
  ...skipped("rehearse"),
  ...FORWARD.slice(FORWARD.indexOf("step.succeeded:rehearse") + 1, FORWARD.indexOf("step.started:migrate") + 1),
  "step.failed:migrate",
  ...skipped("stopNewVersion"),
  ...started("restoreDatabase"),
  ...skipped("restoreFiles"),
  ...skipped("reinstallPrevious"),
  ...skipped("startPrevious"),
  ...started("verifyRestore"),
  "run.rolledBack",
];

/** A prepared scenario. */
export interface Setup {
  dir: string;
  /** The target database's name and URL. */
  database: { name: string; url: string };
  config: string;
  fingerprint(): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * Prepares the scenario in a temporary folder: the target database (on `adminUrl`'s server when
 * given), the migrations (plus a failing one when `broken`), the config (journal on PostgreSQL
 * when `journalOnServer`, `backup` options, and `more.config`'s keys).
 */
export async function prepare(
  dialect: ServerDialect,
  journalOnServer: boolean,
  broken: boolean,
  backup?: { strategy: "dump" | "template" },
  more: { adminUrl?: string; createOptions?: string; config?: Record<string, unknown> } = {},
): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `um-crash-${dialect}-`));
  const folderDialect = dialect === "postgres" ? "pg" : "mysql";
  const migrations = join(dir, "migrations");
  cpSync(shopMigrations(folderDialect), migrations, { recursive: true });
  const target = await createScratchDatabase(dialect, "um_crash", more.adminUrl, more.createOptions);
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
    writeFileSync(
      join(migrations, "0003_broken.sql"),
      `ALTER TABLE ${q}customers${q} ADD ${q}broken${q} text;\n--> statement-breakpoint\nINSERT INTO ${q}no_such_table${q} VALUES (1);\n`,
    );
  }
  let journal: string | undefined;
  if (journalOnServer) {
    const jdb = await createScratchDatabase("postgres", "um_journal");
    dbs.push(jdb);
    journal = jdb.url;
  }
  const config = join(dir, "upgrade.json");
  writeFileSync(
    config,
    JSON.stringify({
      name: `shop-${dialect}`,
      database: target.url,
      migrations: { drizzle: "./migrations" },
      ...(journal ? { journal } : {}),
      ...(backup ? { backup } : {}),
      ...(broken ? { rehearse: false } : {}),
      ...more.config,
    }),
  );
  return {
    dir,
    database: { name: target.name, url: target.url },
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

/** `type:step` of every event of the latest run, from `history --json`. */
export async function keys(config: string): Promise<string[]> {
  const r = await runCli(["history", "--config", config, "--json"]);
  return r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}

/** One crash suite: a scenario and the boundaries at which it is killed. */
export interface ServerCrashSuite {
  name: string;
  dialect: ServerDialect;
  available: boolean;
  journalOnServer: boolean;
  broken: boolean;
  backup?: { strategy: "template" };
  /** The target's server (default: the dialect's test server). */
  adminUrl?: string;
  /** The boundaries to crash at (default: every event of the flow). */
  boundaries?: string[];
}

/**
 * For each boundary: the real CLI run with UPGRADE_MACHINE_CRASH_AFTER at that boundary (it
 * SIGKILLs itself right after the event is durable), then `resume`: the journal is the
 * uninterrupted run's (plus the interrupted step started again), the database is migrated (or
 * equal to the restore point after a rollback) and `plan` agrees.
 */
export function defineServerCrashSuite(v: ServerCrashSuite): void {
  describe(`crash at ${v.boundaries ? "each boundary of the steps that touch the database" : "every boundary"}, then resume: ${v.name}`, () => {
    const events = v.broken ? ROLLBACK : FORWARD;
    let setup: Setup | undefined;
    afterEach(async () => {
      await setup?.cleanup();
      setup = undefined;
    });
    for (const boundary of v.boundaries ?? events) {
      it.skipIf(!v.available)(`crash after ${boundary}`, async () => {
        setup = await prepare(v.dialect, v.journalOnServer, v.broken, v.backup, v.adminUrl !== undefined ? { adminUrl: v.adminUrl } : {});
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
