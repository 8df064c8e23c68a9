// A realistic database on every dialect: foreign keys with ON DELETE CASCADE, sequences /
// AUTO_INCREMENT, indexes, JSON columns and 200,000 rows, created by the drizzle-kit "shop"
// migrations. It survives the whole rollback path: backup, a migration failing on its data
// (v3's unique index over duplicate emails; on MySQL half-applied), damage written after it,
// restore, and the fingerprint equal to the restore point's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runMigrations } from "../src/migrations/runner.js";
import { caught, folderWith } from "./contract/helpers.js";
import { contractTargets, type ContractTarget } from "./contract/targets.js";

const CUSTOMERS = 20_000;
const ORDERS = 60_000;
const ITEMS = 2 * ORDERS;
/** 150 customers share an email with another one: v3's unique index fails on them. */
const DISTINCT_EMAILS = CUSTOMERS - 150;

/** `SELECT g` for g = 1..n, portable to MySQL 5.7 / MariaDB (no recursive CTE limits). */
function mysqlSeries(n: number): string {
  const digits = `(SELECT 0 AS n UNION ALL ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `SELECT ${d}`).join(" UNION ALL ")})`;
  const levels = Math.ceil(Math.log10(n + 1));
  const sum = Array.from({ length: levels }, (_, i) => `${10 ** i} * d${i}.n`).join(" + ");
  const from = Array.from({ length: levels }, (_, i) => `${digits} d${i}`).join(" CROSS JOIN ");
  return `(SELECT ${sum} + 1 AS g FROM ${from}) s WHERE g <= ${n}`;
}

function seed(dialect: ContractTarget["dialect"]): string[] {
  const status = `CASE g % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'shipped' END`;
  if (dialect === "postgres") {
    return [
      `INSERT INTO customers (email, name, profile, created_at) SELECT 'user' || (g % ${DISTINCT_EMAILS}) || '@example.com', 'Customer ' || g,
         jsonb_build_object('age', g % 90, 'tags', jsonb_build_array('t' || (g % 7), g % 3 = 0)), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'
       FROM generate_series(1, ${CUSTOMERS}) g`,
      `INSERT INTO orders (customer_id, status, total_cents, meta) SELECT 1 + g % ${CUSTOMERS}, ${status}, g % 10000,
         CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('src', 'web', 'n', g) END FROM generate_series(1, ${ORDERS}) g`,
      `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, 'SKU-' || ((o.id * k) % 5000), 1 + (o.id + k) % 5, 100 + (o.id * 7 + k) % 900
       FROM orders o CROSS JOIN generate_series(1, 2) k`,
    ];
  }
  if (dialect === "mysql") {
    return [
      `INSERT INTO customers (email, name, profile, created_at) SELECT CONCAT('user', g % ${DISTINCT_EMAILS}, '@example.com'), CONCAT('Customer ', g),
         JSON_OBJECT('age', g % 90, 'tags', JSON_ARRAY(CONCAT('t', g % 7), g % 3 = 0)), TIMESTAMP('2024-01-01') + INTERVAL g MINUTE FROM ${mysqlSeries(CUSTOMERS)}`,
      `INSERT INTO orders (customer_id, status, total_cents, meta) SELECT 1 + g % ${CUSTOMERS}, ${status}, g % 10000,
         CASE WHEN g % 5 = 0 THEN NULL ELSE JSON_OBJECT('src', 'web', 'n', g) END FROM ${mysqlSeries(ORDERS)}`,
      `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, CONCAT('SKU-', (o.id * k.k) % 5000), 1 + (o.id + k.k) % 5, 100 + (o.id * 7 + k.k) % 900
       FROM orders o CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k`,
    ];
  }
  const series = (n: number): string => `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n})`;
  return [
    `INSERT INTO customers (email, name, profile, created_at) ${series(CUSTOMERS)} SELECT 'user' || (g % ${DISTINCT_EMAILS}) || '@example.com', 'Customer ' || g,
       json_object('age', g % 90, 'tags', json_array('t' || (g % 7), g % 3 = 0)), 1704067200 + g * 60 FROM s`,
    `INSERT INTO orders (customer_id, status, total_cents, meta) ${series(ORDERS)} SELECT 1 + g % ${CUSTOMERS}, ${status}, g % 10000,
       CASE WHEN g % 5 = 0 THEN NULL ELSE json_object('src', 'web', 'n', g) END FROM s`,
    `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, 'SKU-' || ((o.id * k.k) % 5000), 1 + (o.id + k.k) % 5, 100 + (o.id * 7 + k.k) % 900
     FROM orders o CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k`,
  ];
}

for (const target of await contractTargets()) {
  describe.skipIf(!target.available)(`${target.name}: a realistic database`, () => {
    it(`survives backup, a failed migration and damage, restored with an equal fingerprint (${CUSTOMERS + ORDERS + ITEMS} rows)`, async () => {
      const db = await target.create();
      const dir = mkdtempSync(join(tmpdir(), "um-realistic-"));
      const timings: Record<string, number> = {};
      const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
        const started = Date.now();
        try {
          return await fn();
        } finally {
          timings[label] = Date.now() - started;
        }
      };
      try {
        await runMigrations(db.adapter.migrationDriver(), folderWith(target.migrations, 2, dir));
        await timed("seed", () => db.exec(seed(target.dialect)));
        const count = async (t: string): Promise<number> =>
          Number((await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t}`))[0]?.n);
        expect([await count("customers"), await count("orders"), await count("order_items")]).toEqual([CUSTOMERS, ORDERS, ITEMS]);

        const point = await timed("fingerprint", () => db.adapter.fingerprint());
        const artifact = await timed("backup", () => db.adapter.backup(dir, "restore-point"));

        const err = await caught(timed("migrate", () => runMigrations(db.adapter.migrationDriver(), target.migrations)));
        expect(err.code).toBe("E_MIGRATION_FAILED");
        expect(err.details).toMatchObject({ tag: "0002_v3", statementIndex: 1 });
        expect((await db.columns("customers")).includes("nickname")).toBe(!db.adapter.capabilities.transactionalDdl);

        await db.exec([`DELETE FROM customers WHERE id <= 500`, `UPDATE orders SET status = 'cancelled' WHERE id % 100 = 0`]);
        expect(await count("order_items")).toBeLessThan(ITEMS); // the cascade reached the grandchildren
        expect((await db.adapter.fingerprint()).hash).not.toBe(point.hash);

        await timed("restore", () => db.adapter.restore(artifact));
        const restored = await timed("fingerprint after restore", () => db.adapter.fingerprint());
        expect(restored).toEqual(point);
        expect(await db.columns("customers")).not.toContain("nickname");
        expect([await count("customers"), await count("orders"), await count("order_items")]).toEqual([CUSTOMERS, ORDERS, ITEMS]);
        console.log(`${target.name}: ${JSON.stringify({ ...timings, backupBytes: artifact.bytes })}`);
      } finally {
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
