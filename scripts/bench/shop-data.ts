// The drizzle-kit "shop" schema's data (test/fixtures/migrations), for the server benchmarks:
// scale x (100k customers, 500k orders, 1M order items, JSON columns, indexes, cascading FKs),
// generated on the server by INSERT ... SELECT (generate_series, MariaDB's sequence engine, a
// recursive CTE on SQLite). Uses only the first migration's columns, so it fills a database at
// any of the schema's versions. Shared by `npm run bench` and `npm run bench:dialects`.

/** The dialects the shop schema has migrations for. */
export type ShopDialect = "sqlite" | "postgres" | "mysql";

/** About this many MB of database per unit of scale, measured here (PostgreSQL 15, MariaDB 10.11). */
export const MB_PER_SCALE: Record<ShopDialect, number> = { sqlite: 150, postgres: 194, mysql: 131 };

/** The statements that fill an empty shop database at `scale`. */
export function shopSeed(dialect: ShopDialect, scale: number): string[] {
  const [c, o] = [Math.round(100_000 * scale), Math.round(500_000 * scale)];
  const status = `CASE g % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'shipped' END`;
  if (dialect === "postgres") {
    return [
      `INSERT INTO customers (email, name, profile) SELECT 'user' || g || '@example.com', 'Customer ' || g, jsonb_build_object('age', g % 90, 'tags', jsonb_build_array('t' || (g % 7))) FROM generate_series(1, ${c}) g`,
      `INSERT INTO orders (customer_id, status, total_cents, meta) SELECT 1 + g % ${c}, ${status}, g % 10000, jsonb_build_object('src', 'web', 'n', g) FROM generate_series(1, ${o}) g`,
      `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, 'SKU-' || ((o.id * k) % 5000), 1 + (o.id + k) % 5, 100 + (o.id * 7 + k) % 900 FROM orders o CROSS JOIN generate_series(1, 2) k`,
      `VACUUM ANALYZE`,
    ];
  }
  if (dialect === "mysql") {
    const series = (n: number): string => `seq_1_to_${n}`; // MariaDB's sequence engine
    return [
      `INSERT INTO customers (email, name, profile) SELECT CONCAT('user', seq, '@example.com'), CONCAT('Customer ', seq), JSON_OBJECT('age', seq % 90, 'tags', JSON_ARRAY(CONCAT('t', seq % 7))) FROM ${series(c)}`,
      `INSERT INTO orders (customer_id, status, total_cents, meta) SELECT 1 + seq % ${c}, ${status.replace(/g %/g, "seq %")}, seq % 10000, JSON_OBJECT('src', 'web', 'n', seq) FROM ${series(o)}`,
      `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, CONCAT('SKU-', (o.id * k.k) % 5000), 1 + (o.id + k.k) % 5, 100 + (o.id * 7 + k.k) % 900 FROM orders o CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k`,
      `ANALYZE TABLE customers, orders, order_items`, // information_schema sizes are statistics
    ];
  }
  const s = (n: number): string => `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n})`;
  return [
    `INSERT INTO customers (email, name, profile) ${s(c)} SELECT 'user' || g || '@example.com', 'Customer ' || g, json_object('age', g % 90, 'tags', json_array('t' || (g % 7))) FROM s`,
    `INSERT INTO orders (customer_id, status, total_cents, meta) ${s(o)} SELECT 1 + g % ${c}, ${status}, g % 10000, json_object('src', 'web', 'n', g) FROM s`,
    `INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT o.id, 'SKU-' || ((o.id * k.k) % 5000), 1 + (o.id + k.k) % 5, 100 + (o.id * 7 + k.k) % 900 FROM orders o CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k`,
  ];
}
