// A small real target for the rehearsal's tests, on SQLite, PostgreSQL or MariaDB: a database at
// release 1.0.0 (`authors (id, name NULL)`, two rows), releases/<v>/drizzle folders where 2.0.0
// makes `name` NOT NULL (drizzle-kit's table rebuild on SQLite, ALTER elsewhere), a config that
// reads ./releases/{toVersion}/drizzle, and optionally a real HTTP service (its pid on /health).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { openAdapter } from "../../src/adapters/registry.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { createScratchDatabase, execSql, querySql, type ScratchDatabase, type ServerDialect } from "./servers.js";

export type Dialect = "sqlite" | ServerDialect;
export const SERVICE = resolve(import.meta.dirname, "../fixtures/http/service.mjs");
export const TMP = "/tmp/h12r";

const q = (d: Dialect) => (d === "postgres" ? '"' : "`");

function v1(d: Dialect): string {
  if (d === "sqlite") return "CREATE TABLE `authors` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`name` text\n);\n";
  if (d === "postgres") return 'CREATE TABLE "authors" (\n\t"id" integer PRIMARY KEY NOT NULL,\n\t"name" text\n);\n';
  return "CREATE TABLE `authors` (\n\t`id` int NOT NULL,\n\t`name` varchar(100),\n\tCONSTRAINT `authors_id` PRIMARY KEY(`id`)\n);\n";
}

/** 2.0.0's migration: `name` NOT NULL, as drizzle-kit writes it for the dialect; `slow` adds a statement that takes about 2 s. */
function v2(d: Dialect, slow: boolean): string {
  const sleep = {
    sqlite: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) SELECT count(*) FROM c;",
    postgres: "SELECT pg_sleep(2);",
    mysql: "SELECT SLEEP(2);",
  }[d];
  const pre = slow ? `${sleep}\n--> statement-breakpoint\n` : "";
  if (d === "sqlite") {
    return `${pre}PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE \`__new_authors\` (
\t\`id\` integer PRIMARY KEY NOT NULL,
\t\`name\` text NOT NULL
);
--> statement-breakpoint
INSERT INTO \`__new_authors\`("id", "name") SELECT "id", "name" FROM \`authors\`;--> statement-breakpoint
DROP TABLE \`authors\`;--> statement-breakpoint
ALTER TABLE \`__new_authors\` RENAME TO \`authors\`;--> statement-breakpoint
PRAGMA foreign_keys=ON;`;
  }
  if (d === "postgres") return `${pre}ALTER TABLE "authors" ALTER COLUMN "name" SET NOT NULL;`;
  return `${pre}ALTER TABLE \`authors\` MODIFY COLUMN \`name\` varchar(100) NOT NULL;`;
}

function writeRelease(dir: string, d: Dialect, version: string, migrations: [tag: string, sql: string][]): void {
  const folder = join(dir, "releases", version, "drizzle");
  mkdirSync(join(folder, "meta"), { recursive: true });
  const entries = migrations.map(([tag], idx) => ({ idx, version: "7", when: 1_790_000_000_000 + idx * 1000, tag, breakpoints: true }));
  const dialect = d === "postgres" ? "postgresql" : d;
  writeFileSync(join(folder, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect, entries }));
  for (const [tag, sql] of migrations) writeFileSync(join(folder, `${tag}.sql`), sql);
}

/** A prepared target. */
export interface Target {
  dialect: Dialect;
  dir: string;
  config: string;
  /** The database's URL as the config names it. */
  url: string;
  /** The service's port and pid when one runs. */
  service: { port: number; pid: number } | null;
  fingerprint(): Promise<string>;
  /** Scratch copies left: files beside the backups (SQLite), databases named `<db>__um_rehearse_*` (servers). */
  scratchLeft(): Promise<string[]>;
  /** The pid on /health, or null when nothing answers. */
  servicePid(): Promise<number | null>;
  cleanup(): Promise<void>;
}

/** Options of `prepareTarget`. */
export interface TargetOptions {
  /** A NULL name in one row: 2.0.0's migration fails on the data. */
  nullName: boolean;
  /** A port to run the HTTP service on (with stop, start and health in the config); none without. */
  port?: number;
  slow?: boolean;
  /** More keys of the config. */
  config?: Record<string, unknown>;
}

/** Prepares a target at 1.0.0 with two authors, and its config. */
export async function prepareTarget(d: Dialect, o: TargetOptions): Promise<Target> {
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(join(TMP, `reh-${d}-`));
  const init: [string, string] = ["0000_init", v1(d)];
  writeRelease(dir, d, "1.0.0", [init]);
  writeRelease(dir, d, "2.0.0", [init, ["0001_name_not_null", v2(d, o.slow ?? false)]]);
  let server: ScratchDatabase | null = null;
  let url = "sqlite:./app.sqlite";
  if (d !== "sqlite") {
    server = await createScratchDatabase(d, "um_reh");
    url = server.url;
  }
  if (d === "sqlite") writeFileSync(join(dir, "app.sqlite"), "");
  const adapter = await openAdapter(parseDatabaseUrl(url, dir));
  await runMigrations(adapter.migrationDriver(), join(dir, "releases", "1.0.0", "drizzle"));
  await adapter.close();
  const insert = `INSERT INTO ${q(d)}authors${q(d)} (id, name) VALUES (1, 'Ada'), (2, ${o.nullName ? "NULL" : "'Bo'"})`;
  if (d === "sqlite") {
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(join(dir, "app.sqlite"));
    db.exec(insert);
    db.close();
  } else await execSql(d, url, [insert]);

  let service: Target["service"] = null;
  const serviceConfig: Record<string, unknown> = {};
  if (o.port !== undefined) {
    const child = spawn(process.execPath, [SERVICE], { env: { ...process.env, PORT: String(o.port) }, detached: true, stdio: "ignore" });
    child.unref();
    service = { port: o.port, pid: child.pid! };
    for (let i = 0; i < 50 && (await pidOn(o.port)) === null; i++) await new Promise((r) => setTimeout(r, 100));
    Object.assign(serviceConfig, {
      announce: { command: ["true"] },
      service: {
        stop: {
          http: { method: "POST", url: `http://127.0.0.1:${o.port}/shutdown`, headers: { authorization: "token s3cret-token" } },
          waitSeconds: 10,
        },
        start: { command: [process.execPath, SERVICE], env: { PORT: String(o.port) }, settleSeconds: 0.5 },
        health: { url: `http://127.0.0.1:${o.port}/health`, timeoutSeconds: 10 },
      },
    });
  }
  const config = join(dir, "upgrade.json");
  writeFileSync(
    config,
    JSON.stringify({
      name: `reh-${d}`,
      database: url,
      migrations: { drizzle: "./releases/{toVersion}/drizzle" },
      ...serviceConfig,
      ...o.config,
    }),
  );
  const target = parseDatabaseUrl(url, dir);
  return {
    dialect: d,
    dir,
    config,
    url,
    service,
    async fingerprint() {
      const a = await openAdapter(target);
      try {
        return (await a.fingerprint()).hash;
      } finally {
        await a.close();
      }
    },
    async scratchLeft() {
      if (d === "sqlite") {
        const backups = join(dir, ".upgrade", "backups");
        let runs: string[] = [];
        try {
          runs = readdirSync(backups);
        } catch {
          return [];
        }
        return runs.flatMap((r) =>
          readdirSync(join(backups, r))
            .filter((f) => f.startsWith("rehearse_"))
            .map((f) => join(r, f)),
        );
      }
      const name = server!.name;
      const rows =
        d === "postgres"
          ? await querySql<{ n: string }>(d, url, [`SELECT datname AS n FROM pg_database WHERE datname LIKE '${name}\\_\\_um\\_rehearse%'`])
          : await querySql<{ n: string }>(d, url, [
              `SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${name}\\_\\_um\\_rehearse%'`,
            ]);
      return rows.map((r) => r.n);
    },
    servicePid: () => (o.port === undefined ? Promise.resolve(null) : pidOn(o.port)),
    async cleanup() {
      if (service) {
        const pid = await pidOn(service.port);
        if (pid !== null) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
      await server?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pidOn(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as { pid: number }).pid : null;
  } catch {
    return null;
  }
}

/** Polls the service's pid every 50 ms until `stop()`; returns every answer (null: no answer). */
export function watchPid(t: Target): { stop(): Promise<(number | null)[]> } {
  const seen: (number | null)[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      seen.push(await t.servicePid());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return seen;
    },
  };
}
