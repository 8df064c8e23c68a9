// PostgreSQL (dump and template strategies) and MariaDB: the downtime of an upgrade of the shop
// schema from its first migration to its last (a column with a default, an index, a unique
// index over the data) by upgrade-machine (the built CLI), against the by-hand procedure after
// the stop (pg_dump / mariadb-dump, the migration SQL through psql / mariadb, install, start,
// wait healthy), each run on a fresh copy of the same data, the service (service.mjs) the same.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openAdapter } from "../../src/adapters/registry.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { shopMigrations } from "../../test/contract/targets.js";
import { ADMIN_URL, dropDatabases, execSql, querySql, type ServerDialect, urlFor } from "../../test/helpers/servers.js";
import { type Downtime, downtimeOf, splitText } from "./downtime.js";
import { cli, historyEvents, run, timed, waitHealthy } from "./proc.js";
import { type BenchRow, makeRow } from "./report.js";
import { MB_PER_SCALE, shopSeed } from "./shop-data.js";

const SERVICE = join(import.meta.dirname, "service.mjs");
/** Database names start with this (BENCH_DB_PREFIX; two benchmarks at once need two). */
const DB_PREFIX = process.env.BENCH_DB_PREFIX ?? "um_sd_bench";

/** A service installation in `dir` for the database `name`. */
interface Side {
  dir: string;
  name: string;
  url: string;
  port: number;
  svc(...args: string[]): Promise<string>;
}

function side(work: string, dialect: ServerDialect, label: string, name: string, port: number, strategy?: "dump" | "template"): Side {
  const dir = join(work, `${dialect}-${label}`);
  mkdirSync(dir, { recursive: true });
  const url = urlFor(dialect, name);
  cpSync(shopMigrations(dialect === "postgres" ? "pg" : "mysql"), join(dir, "migrations"), { recursive: true });
  writeFileSync(join(dir, "service.json"), JSON.stringify({ url, port }));
  const svc = [process.execPath, SERVICE, dir];
  writeFileSync(
    join(dir, "upgrade.json"),
    JSON.stringify(
      {
        name: `bench-${dialect}`,
        database: url,
        migrations: { drizzle: "./migrations" },
        stateDir: "./.upgrade",
        ...(strategy ? { backup: { strategy } } : {}),
        service: {
          stop: { command: [...svc, "stop"] },
          start: { command: [...svc, "start"] },
          health: { url: `http://127.0.0.1:${port}/health`, timeoutSeconds: 30 },
        },
        package: {
          version: { command: [...svc, "version"] },
          upgrade: { command: [...svc, "install", "{toVersion}"] },
          downgrade: { command: [...svc, "install", "{fromVersion}"] },
        },
      },
      null,
      2,
    ),
  );
  return { dir, name, url, port, svc: (...args) => run([...svc, ...args]) };
}

/** The shop database at its first migration, filled to about `mb`; returns its name and size. */
async function source(dialect: ServerDialect, work: string, mb: number): Promise<{ name: string; bytes: number }> {
  const name = `${DB_PREFIX}_${dialect === "postgres" ? "pg" : "my"}_src`;
  await dropDatabases(dialect, [name]);
  await execSql(dialect, ADMIN_URL[dialect], [
    dialect === "postgres" ? `CREATE DATABASE "${name}"` : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`,
  ]);
  const first = join(work, `${dialect}-first`);
  cpSync(shopMigrations(dialect === "postgres" ? "pg" : "mysql"), first, { recursive: true });
  const journal = join(first, "meta", "_journal.json");
  const j = JSON.parse(readFileSync(journal, "utf8"));
  j.entries = j.entries.slice(0, 1);
  writeFileSync(journal, JSON.stringify(j));
  const adapter = await openAdapter(parseDatabaseUrl(urlFor(dialect, name), work));
  try {
    await runMigrations(adapter.migrationDriver(), first);
  } finally {
    await adapter.close();
  }
  await execSql(dialect, urlFor(dialect, name), shopSeed(dialect, mb / MB_PER_SCALE[dialect]));
  if (dialect === "postgres") await execSql(dialect, ADMIN_URL.postgres, ["CHECKPOINT"]);
  const [row] = await querySql<{ b: string }>(
    dialect,
    ADMIN_URL[dialect],
    dialect === "postgres"
      ? [`SELECT pg_database_size('${name}')::text AS b`]
      : [`SELECT SUM(data_length + index_length) AS b FROM information_schema.tables WHERE table_schema = '${name}'`],
  );
  return { name, bytes: Number(row?.b ?? 0) };
}

/** The side's database back at the first migration with the source's data. */
async function reset(dialect: ServerDialect, s: Side, src: string): Promise<void> {
  await s.svc("stop");
  rmSync(join(s.dir, ".upgrade"), { recursive: true, force: true });
  if (dialect === "postgres") {
    await dropDatabases("postgres", [s.name]);
    await execSql("postgres", ADMIN_URL.postgres, [`CREATE DATABASE "${s.name}" TEMPLATE "${src}" STRATEGY FILE_COPY`, "CHECKPOINT"]);
  } else {
    // MariaDB has no database copy: the source itself is taken back to the first migration
    // (the later migrations only add columns and indexes), untimed.
    const [row] = await querySql<{ n: number }>("mysql", s.url, [
      `SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = '${s.name}' AND table_name = 'customers' AND column_name = 'tier'`,
    ]);
    if (Number(row?.n)) {
      await execSql("mysql", s.url, [
        "ALTER TABLE customers DROP INDEX customers_email_unique, DROP COLUMN nickname, DROP COLUMN tier",
        "DROP INDEX orders_status_idx ON orders",
        "DELETE FROM __drizzle_migrations WHERE created_at > (SELECT m FROM (SELECT MIN(created_at) AS m FROM __drizzle_migrations) x)",
      ]);
    }
  }
  await s.svc("install", "1.0.0");
  await s.svc("start");
}

async function ours(s: Side): Promise<Downtime> {
  const config = join(s.dir, "upgrade.json");
  const out = await cli(["run", "--config", config, "--to", "2.0.0", "--json"], s.dir);
  const events = await historyEvents(config, s.dir);
  if (!events.some((e) => e.type === "run.completed"))
    throw new Error(`the ${s.name} upgrade did not complete: ${JSON.stringify(events.at(-1))}`);
  return downtimeOf(out);
}

/** The pending migrations' SQL as one script, drizzle's bookkeeping rows included. */
function migrationScript(dialect: ServerDialect, dir: string): string {
  const m = join(dir, "migrations");
  const entries = (JSON.parse(readFileSync(join(m, "meta", "_journal.json"), "utf8")).entries as { tag: string; when: number }[]).slice(1);
  const table = dialect === "postgres" ? `"drizzle"."__drizzle_migrations"` : "`__drizzle_migrations`";
  return entries
    .map((e) => {
      const text = readFileSync(join(m, `${e.tag}.sql`), "utf8");
      const hash = createHash("sha256").update(text).digest("hex");
      return `${text.replaceAll("--> statement-breakpoint", "\n")}\nINSERT INTO ${table} (hash, created_at) VALUES ('${hash}', ${e.when});\n`;
    })
    .join("\n");
}

async function byHand(dialect: ServerDialect, s: Side, work: string): Promise<Downtime> {
  const t = parseDatabaseUrl(ADMIN_URL[dialect], "/") as { host: string; port: number; user?: string };
  const script = join(work, `${dialect}-migration.sql`);
  writeFileSync(script, migrationScript(dialect, s.dir));
  const dump = join(work, `${dialect}-by-hand.dump`);
  const pg = ["-h", t.host, "-p", String(t.port), "-U", t.user ?? "postgres"];
  const my = [`--host=${t.host}`, `--port=${t.port}`, `--user=${t.user ?? "root"}`, "--protocol=TCP"];
  const steps: Record<string, number> = {};
  steps.stop = await timed(() => s.svc("stop"));
  steps.dump = await timed(() =>
    dialect === "postgres"
      ? run(["pg_dump", ...pg, "-Fc", "-f", dump, s.name])
      : run(["mariadb-dump", ...my, "--single-transaction", "--routines", "--triggers", "--events", "--hex-blob", s.name], {
          stdout: dump,
        }),
  );
  steps.migrate = await timed(() =>
    dialect === "postgres"
      ? run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", ...pg, "-d", s.name, "-f", script])
      : run(["mariadb", ...my, s.name], { stdin: script }),
  );
  steps.install = await timed(() => s.svc("install", "2.0.0"));
  steps.start = await timed(() => s.svc("start"));
  steps.health = await timed(() => waitHealthy(`http://127.0.0.1:${s.port}/health`));
  await s.svc("stop");
  rmSync(dump, { force: true });
  return { total: Object.values(steps).reduce((a, b) => a + b, 0), steps };
}

/** One dialect's rows: for PostgreSQL one per backup strategy. */
export async function serverBench(dialect: ServerDialect, work: string, mb: number, runs: number, ports: number[]): Promise<BenchRow[]> {
  const src = await source(dialect, work, mb);
  const label = dialect === "postgres" ? "PostgreSQL" : "MariaDB";
  const section = `${label} ${(src.bytes / 2 ** 20).toFixed(0)} MB`;
  const strategies = dialect === "postgres" ? (["dump", "template"] as const) : ([undefined] as const);
  const pgName = (x: string) => `${DB_PREFIX}_pg_${x}`;
  const sides = strategies.map((st, i) =>
    side(work, dialect, st ?? "ours", dialect === "postgres" ? pgName(st!) : src.name, ports[i]!, st),
  );
  const hand = side(work, dialect, "by-hand", dialect === "postgres" ? pgName("hand") : src.name, ports[strategies.length]!);
  const oursRuns: Downtime[][] = strategies.map(() => []);
  const handRuns: Downtime[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      console.error(`  ${section}: round ${i + 1}/${runs}`);
      for (const [k, s] of sides.entries()) {
        await reset(dialect, s, src.name);
        oursRuns[k]!.push(await ours(s));
        await s.svc("stop");
      }
      await reset(dialect, hand, src.name);
      handRuns.push(await byHand(dialect, hand, work));
    }
  } finally {
    for (const s of [...sides, hand]) await s.svc("stop").catch(() => undefined);
    const names = dialect === "postgres" ? [src.name, ...[...sides, hand].map((s) => s.name)] : [src.name];
    await dropDatabases(dialect, names);
  }
  const tool = dialect === "postgres" ? "pg_dump -Fc, psql -1" : "mariadb-dump, mariadb";
  return strategies.map((st, k) =>
    makeRow({
      section,
      measure: `downtime, stop to healthy${st ? ` (${st} strategy)` : ""}`,
      unit: "s",
      ours: oursRuns[k]!.map((d) => d.total),
      baseline: { label: `by hand (stop, ${tool} migration, install, start)`, values: handRuns.map((d) => d.total) },
      goal: { on: "ratio", op: "<=", limit: 0.35 },
      note: `ours: ${splitText(oursRuns[k]!.map((d) => d.steps))}; by hand: ${splitText(handRuns.map((d) => d.steps))}`,
    }),
  );
}
