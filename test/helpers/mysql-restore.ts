// Shared by the MySQL restore tests: a seeded "shop" database on the test MariaDB, hand-written
// dump files with a matching artifact, the restore's left-over databases, and a restore running
// in a child process that the test kills with SIGKILL.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createMysqlAdapter, derivedName, type MysqlAdapter, type MysqlTarget } from "../../src/adapters/mysql/index.js";
import type { BackupArtifact, Fingerprint } from "../../src/adapters/types.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";
import { folderWith } from "../contract/helpers.js";
import { shopMigrations } from "../contract/targets.js";
import { ADMIN_URL, createScratchDatabase, execSql, querySql } from "./servers.js";

/** A database of the shop schema (v2) on the test server, with its adapter. */
export interface ShopDb {
  name: string;
  url: string;
  adapter: MysqlAdapter;
  exec(statements: string[]): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** The fingerprint, by an adapter of its own (the test's adapter may be mid-restore). */
  fingerprint(): Promise<Fingerprint>;
  /** Closes the adapter; drops the database and the restore's derived databases. */
  drop(): Promise<void>;
}

/** The shop schema at v2 with `customers` customers, 3 orders each and 2 items per order. */
export async function shopDatabase(dir: string, customers = 200): Promise<ShopDb> {
  const db = await createScratchDatabase("mysql", "um_restore");
  const target = (url: string): MysqlTarget => parseDatabaseUrl(url, "/") as MysqlTarget;
  const adapter = createMysqlAdapter(target(db.url));
  await runMigrations(adapter.migrationDriver(), folderWith(shopMigrations("mysql"), 2, dir));
  const orders = customers * 3;
  await execSql("mysql", db.url, [
    `INSERT INTO customers (email, name, profile) SELECT CONCAT('user', seq, '@example.com'), CONCAT('Customer ', seq), JSON_OBJECT('age', seq % 90, 'note', REPEAT('x', seq % 200)) FROM seq_1_to_${customers}`,
    `INSERT INTO orders (customer_id, status, total_cents, meta) SELECT 1 + seq % ${customers}, 'paid', seq % 10000, JSON_OBJECT('src', 'web', 'n', seq) FROM seq_1_to_${orders}`,
    `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, CONCAT('SKU-', (o.id * k.k) % 5000), 1 + (o.id + k.k) % 5, 100 + (o.id * 7 + k.k) % 900 FROM orders o CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k`,
  ]);
  return {
    name: db.name,
    url: db.url,
    adapter,
    exec: (statements) => execSql("mysql", db.url, statements),
    query: <T>(sql: string) => querySql<T>("mysql", db.url, [sql]),
    async fingerprint() {
      const other = createMysqlAdapter(target(db.url));
      try {
        return await other.fingerprint();
      } finally {
        await other.close();
      }
    },
    async drop() {
      await adapter.close();
      const names = [db.name, derivedName(db.name, "restore"), derivedName(db.name, "old")];
      await execSql(
        "mysql",
        ADMIN_URL.mysql,
        names.map((n) => `DROP DATABASE IF EXISTS \`${n}\``),
      );
    },
  };
}

/** Damage a failed upgrade could leave: rows changed and gone, a new table, a new index. */
export const DAMAGE = [
  `UPDATE customers SET name = 'changed' WHERE id % 7 = 0`,
  `DELETE FROM customers WHERE id % 5 = 0`,
  `CREATE TABLE audit_log (id INT PRIMARY KEY, line TEXT)`,
  `INSERT INTO audit_log VALUES (1, 'after the restore point')`,
  `CREATE INDEX customers_name_idx ON customers (name)`,
];

/** The databases whose names start with `<name>__um_` (the restore's scratch and trash). */
export async function leftovers(name: string): Promise<string[]> {
  const rows = await querySql<{ n: string }>("mysql", ADMIN_URL.mysql, [
    `SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${name.replace(/_/g, "\\_")}\\_\\_um\\_%'`,
  ]);
  return rows.map((r) => r.n);
}

/** Writes a dump file as upgrade-machine's MySQL backup writes them, and its matching artifact. */
export function writeDump(dir: string, database: string, body: string): BackupArtifact {
  const path = join(dir, "hand-written.sql");
  const text = `-- upgrade-machine: ${JSON.stringify({ database, charset: "utf8mb4", collation: "utf8mb4_general_ci" })}\n${body}`;
  writeFileSync(path, text, { mode: 0o600 });
  const bytes = Buffer.from(text);
  return {
    path,
    bytes: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    format: "mysqldump-sql",
    createdAt: new Date().toISOString(),
  };
}

const CHILD = fileURLToPath(new URL("../fixtures/mysql/restore-child.ts", import.meta.url));

/** One line a restore child printed. */
export type ChildLine = { progress?: { unit: string; done: number; total?: number; message?: string }; ok?: boolean; error?: string };

/** A restore running in a child process. */
export interface RestoreChild {
  /** Kills it with SIGKILL. */
  kill(): void;
  /** Resolves once it exited, with what it printed. */
  done: Promise<{ signal: NodeJS.Signals | null; lines: ChildLine[]; stderr: string }>;
}

/**
 * Runs a restore of `artifact` on `url` in a child process. `killWhen` sees every line it prints
 * and, when it returns true, the child is killed with SIGKILL at once.
 */
export function restoreInChild(
  dir: string,
  url: string,
  job: { artifact: BackupArtifact; expected?: Fingerprint },
  killWhen: (line: ChildLine) => boolean = () => false,
): RestoreChild {
  const jobPath = join(dir, `job-${Date.now()}.json`);
  writeFileSync(jobPath, JSON.stringify(job));
  const child = spawn(process.execPath, ["--import", import.meta.resolve("jiti/register"), CHILD, url, jobPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: ChildLine[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    buffer += c.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl)) as ChildLine;
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      if (killWhen(line)) child.kill("SIGKILL");
    }
  });
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return {
    kill: () => void child.kill("SIGKILL"),
    done: new Promise((resolve) => child.on("close", (_code, signal) => resolve({ signal, lines, stderr }))),
  };
}
