// Hostile shapes on the database servers, through the real CLI: passwords that are also the user,
// the database name, a word of the state directory or a digit (redaction must never change a
// path or make a step fail), and a second orchestrator through another host spelling.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openAdapter } from "../src/adapters/registry.js";
import { runMigrations } from "../src/migrations/runner.js";
import { parseDatabaseUrl } from "../src/url.js";
import { shopMigrations } from "./contract/targets.js";
import { cliOutcome, errorCodeOf, type Outcome } from "./helpers/hostile.js";
import { ADMIN_URL, dropDatabases, execSql, randomName, serverAvailable, type ServerDialect } from "./helpers/servers.js";

interface Target {
  dir: string;
  config: string;
  url: string;
  /** The password used, as given. */
  password: string;
  fingerprint(): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * A database `name` owned by a login role `name` whose password is `password`, at the shop
 * schema's first migration with rows; a config in a folder whose path holds `pathWord`, with the
 * shop's migrations plus one that fails (so the run rolls back), or not.
 */
async function prepare(
  dialect: ServerDialect,
  opts: {
    password: (name: string) => string;
    pathWord?: (name: string) => string;
    broken: boolean;
    host?: string;
    extra?: Record<string, unknown>;
  },
): Promise<Target> {
  const name = randomName("umpw");
  const password = opts.password(name);
  const base = mkdtempSync(join(tmpdir(), "um-hostile-"));
  const dir = join(base, opts.pathWord ? opts.pathWord(name) : "svc", "deploy");
  mkdirSync(dir, { recursive: true });
  const admin = ADMIN_URL[dialect];
  if (dialect === "postgres") {
    await execSql(dialect, admin, [
      `CREATE ROLE "${name}" LOGIN CREATEDB PASSWORD '${password}' IN ROLE um_password_auth`,
      `CREATE DATABASE "${name}" OWNER "${name}"`,
    ]);
  } else {
    await execSql(dialect, admin, [
      `CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`,
      `CREATE USER '${name}'@'localhost' IDENTIFIED BY '${password}'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${name}'@'%'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${name}'@'localhost'`,
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`,
    ]);
  }
  const scheme = dialect === "postgres" ? "postgres" : "mysql";
  const port = dialect === "postgres" ? 5432 : 3306;
  const url = `${scheme}://${encodeURIComponent(name)}:${encodeURIComponent(password)}@${opts.host ?? "127.0.0.1"}:${port}/${name}`;
  const folder = dialect === "postgres" ? "pg" : "mysql";
  const migrations = join(dir, "migrations");
  cpSync(shopMigrations(folder), migrations, { recursive: true });
  const first = join(dir, "first");
  cpSync(migrations, first, { recursive: true });
  const fj = join(first, "meta", "_journal.json");
  const j = JSON.parse(readFileSync(fj, "utf8"));
  j.entries = j.entries.slice(0, 1);
  writeFileSync(fj, JSON.stringify(j));
  const adapter = await openAdapter(parseDatabaseUrl(url, dir));
  await runMigrations(adapter.migrationDriver(), first);
  await adapter.close();
  const q = dialect === "postgres" ? '"' : "`";
  await execSql(dialect, url, [`INSERT INTO ${q}customers${q} (email, name) VALUES ('a@x', 'A'), ('b@x', '${password}'), ('c@x', 'C')`]);
  if (opts.broken) {
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
  const config = join(dir, "upgrade.json");
  // a failing migration is rolled back after the stop: the rehearsal, which would abort before it, is off
  const rehearse = opts.broken ? { rehearse: false } : {};
  writeFileSync(
    config,
    JSON.stringify({ name: `svc-${name}`, database: url, migrations: { drizzle: "./migrations" }, ...rehearse, ...opts.extra }),
  );
  return {
    dir,
    config,
    url,
    password,
    async fingerprint() {
      const a = await openAdapter(parseDatabaseUrl(url, dir));
      try {
        return (await a.fingerprint()).hash;
      } finally {
        await a.close();
      }
    },
    async cleanup() {
      await dropDatabases(dialect, [name]);
      if (dialect === "postgres") await execSql(dialect, admin, [`DROP ROLE IF EXISTS "${name}"`]);
      else await execSql(dialect, admin, [`DROP USER IF EXISTS '${name}'@'%'`, `DROP USER IF EXISTS '${name}'@'localhost'`]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Every event of the latest run of a config. */
async function events(config: string): Promise<Record<string, any>[]> {
  const h = await cliOutcome(["history", "--config", config, "--json"]);
  return h.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

interface PasswordCase {
  name: string;
  password: (name: string) => string;
  pathWord?: (name: string) => string;
  broken: boolean;
}

const PASSWORDS: PasswordCase[] = [
  {
    name: "the password is the user and the database name, which is a word of the state directory's path; a failing migration",
    password: (n) => n,
    pathWord: (n) => n,
    broken: true,
  },
  {
    name: "the password is the user and the database name; a migration that succeeds",
    password: (n) => n,
    pathWord: (n) => n,
    broken: false,
  },
  { name: "the password is `1`; a failing migration", password: () => "1", broken: true },
  { name: "the password is `1`; a migration that succeeds", password: () => "1", broken: false },
  { name: "the password is `deploy`, a word of the state directory's path; a failing migration", password: () => "deploy", broken: true },
  {
    name: "the password is `upgrade`, a word of every backup's path (`.upgrade/backups`); a failing migration",
    password: () => "upgrade",
    broken: true,
  },
];

for (const dialect of ["postgres", "mysql"] as const) {
  describe(`hostile passwords on ${dialect === "postgres" ? "PostgreSQL" : "MariaDB"}: redaction never changes a path or fails a step`, async () => {
    const available = await serverAvailable(dialect);
    let target: Target | undefined;
    afterEach(async () => {
      await target?.cleanup();
      target = undefined;
    });
    for (const c of PASSWORDS) {
      it.skipIf(!available)(
        `[2] ${c.name}: ${c.broken ? "exit 1, rolledBack, the database as before" : "exit 0, completed"}`,
        async () => {
          target = await prepare(dialect, c);
          const before = await target.fingerprint();
          const o = await cliOutcome(["run", "--config", target.config, "--json"]);
          const said = `${o.stdout.slice(-3000)}\n${o.stderr}`;
          expect(o.exit, said).toBe(c.broken ? 1 : 0);
          expect(o.last?.state, said).toBe(c.broken ? "rolledBack" : "completed");
          if (c.broken) {
            expect(errorCodeOf(o)).toBe("E_MIGRATION_FAILED");
            expect(await target.fingerprint()).toBe(before);
          }
          const all = await events(target.config);
          // the restore point's path reached the journal as it is on disk, and the rollback used it
          const seal = all.find((e) => e.type === "step.succeeded" && e.step === "seal");
          const point = seal?.payload.output.restorePoint.path as string;
          expect(point.startsWith(target.dir)).toBe(true);
          // the password never appears as a credential anywhere a person or the journal sees
          const seen = `${o.stdout}\n${o.stderr}\n${JSON.stringify(all)}`;
          expect(seen).not.toContain(`:${encodeURIComponent(target.password)}@`);
          expect(seen).not.toContain(`:${target.password}@`);
          expect(seen).not.toMatch(new RegExp(`PASSWORD=${target.password}\\b`, "i"));
          // a resume finds nothing to do and does not crash on the journal
          const again = await cliOutcome(["status", "--config", target.config, "--json"]);
          expect(again.exit).toBe(0);
          expect(again.last?.state).toBe(c.broken ? "rolledBack" : "completed");
        },
        120_000,
      );
    }

    it.skipIf(!available)(
      "[5] another database on the same server written all the time (a shared server): the seal proves the restore point, a failing migration rolls back exactly",
      async () => {
        // InnoDB's log sequence number (and PostgreSQL's WAL position without pg_walinspect) moves
        // with any write on the server: the seal must not take that for a write to this database.
        target = await prepare(dialect, { password: (n) => `${n}-pw`, broken: true });
        const side = `${randomName("umside")}`;
        const q = dialect === "postgres" ? '"' : "`";
        await execSql(dialect, ADMIN_URL[dialect], [`CREATE DATABASE ${q}${side}${q}`]);
        const sideUrl = ADMIN_URL[dialect].replace(/\/[^/]*$/, `/${side}`);
        await execSql(dialect, sideUrl, [`CREATE TABLE t (id integer PRIMARY KEY, v text)`]);
        let writing = true;
        let writes = 0;
        const writer = (async () => {
          for (let i = 1; writing; i++) {
            await execSql(dialect, sideUrl, [`INSERT INTO t VALUES (${i}, 'x')`]);
            writes++;
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        try {
          const before = await target.fingerprint();
          const o = await cliOutcome(["run", "--config", target.config, "--json"]);
          const said = `${o.stdout.slice(-3000)}\n${o.stderr}`;
          expect(o.exit, said).toBe(1);
          expect(o.last?.state, said).toBe("rolledBack");
          expect(errorCodeOf(o)).toBe("E_MIGRATION_FAILED");
          expect(await target.fingerprint()).toBe(before);
          const seal = (await events(target.config)).find((e) => e.type === "step.succeeded" && e.step === "seal");
          expect(["fingerprint", "copy"]).toContain(seal?.payload.output.proof);
          expect(writes).toBeGreaterThan(5);
        } finally {
          writing = false;
          await writer;
          await dropDatabases(dialect, [side]);
        }
      },
      120_000,
    );

    it.skipIf(!available)(
      "[2] a command that succeeds and prints the password: the journal and the output keep its output without the password",
      async () => {
        target = await prepare(dialect, { password: () => `S3cr3t-${Math.random().toString(36).slice(2, 10)}`, broken: false });
        const c = JSON.parse(readFileSync(target.config, "utf8"));
        c.verify = [
          { command: ["sh", "-c", 'echo "checking with password $PW and url $URL"'], env: { PW: target.password, URL: target.url } },
        ];
        writeFileSync(target.config, JSON.stringify(c));
        const o = await cliOutcome(["run", "--config", target.config, "--json"]);
        expect(o.exit, o.stderr).toBe(0);
        const all = await events(target.config);
        const verify = all.find((e) => e.type === "step.succeeded" && e.step === "verify");
        expect(verify?.payload.output.checks[0].stdout).toMatch(/^checking with password \*\*\* and url \w+:\/\/[^:]+:\*\*\*@/);
        const raw = readFileSync(join(target.dir, ".upgrade", "journal.sqlite"));
        const wal = (() => {
          try {
            return readFileSync(join(target.dir, ".upgrade", "journal.sqlite-wal"));
          } catch {
            return Buffer.alloc(0);
          }
        })();
        expect(Buffer.concat([raw, wal]).includes(Buffer.from(target.password))).toBe(false);
        expect(`${o.stdout}${o.stderr}`).not.toContain(target.password);
      },
      120_000,
    );

    it.skipIf(!available)(
      "[5] a second orchestrator through `localhost` while a run through `127.0.0.1` is in its verify step: exit 4, E_BUSY, nothing journaled",
      async () => {
        target = await prepare(dialect, { password: (n) => `${n}-pw`, broken: false, extra: { verify: [{ command: ["sleep", "6"] }] } });
        const firstRun = cliOutcome(["run", "--config", target.config, "--json"]);
        for (let i = 0; i < 200; i++) {
          const s = await cliOutcome(["status", "--config", target.config, "--json"]);
          if (s.last?.step === "verify") break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const c = JSON.parse(readFileSync(target.config, "utf8"));
        c.database = c.database.replace("127.0.0.1", "localhost");
        c.stateDir = "./.upgrade-second";
        const second = join(target.dir, "second.json");
        writeFileSync(second, JSON.stringify(c));
        const o: Outcome = await cliOutcome(["run", "--config", second, "--json"]);
        expect(o.exit, o.stdout + o.stderr).toBe(4);
        expect(errorCodeOf(o)).toBe("E_BUSY");
        expect((await cliOutcome(["status", "--config", second, "--json"])).last?.state).toBe("none");
        const first = await firstRun;
        expect(first.last?.state, first.stderr).toBe("completed");
      },
      120_000,
    );
  });
}
