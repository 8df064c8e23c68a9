// The SQLite benchmark's data: the example blog's database at release 1.0.0 (schema and drizzle
// bookkeeping from examples/blog/seed.mjs), filled to `mb` with about 1M posts per GB (title,
// an 850-character body, a timestamp) and one comment each, in one transaction of two
// INSERT ... SELECT over a recursive series. Built once per benchmark; every run gets a copy.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT, run, since } from "./proc.js";

const require = createRequire(import.meta.url);

/** The built file, its row counts (floors for the example's `ctl.sh check`) and size. */
export interface BlogData {
  file: string;
  rows: { authors: number; posts: number; comments: number };
  bytes: number;
  seconds: number;
}

/** Builds `<dir>/blog.sqlite` of about `mb` MB. */
export async function buildBlogData(dir: string, mb: number): Promise<BlogData> {
  const t0 = performance.now();
  const file = join(dir, "blog.sqlite");
  await run([process.execPath, join(ROOT, "examples/blog/seed.mjs"), file, "--authors", "0"]);
  const Database = require("better-sqlite3");
  const db = new Database(file);
  const posts = Math.max(1000, Math.round((1_000_000 * mb) / 1024));
  const authors = 1000;
  const series = (n: number) => `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n})`;
  db.pragma("journal_mode = WAL");
  db.transaction(() => {
    db.exec(`INSERT INTO authors (name, email) ${series(authors)} SELECT 'Author ' || g, 'author' || g || '@example.com' FROM s`);
    db.exec(
      `INSERT INTO posts (author_id, title, body, created_at) ${series(posts)} ` +
        `SELECT 1 + g % ${authors}, 'Post ' || g, lower(hex(randomblob(425))), 1700000000 + g * 60 FROM s`,
    );
    db.exec(`INSERT INTO comments (post_id, body) SELECT id, 'Comment on post ' || id || ': ' || lower(hex(randomblob(12))) FROM posts`);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  const n = (t: string): number => db.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
  const rows = { authors: n("authors"), posts: n("posts"), comments: n("comments") };
  db.close();
  writeFileSync(join(dir, "min-rows.json"), `${JSON.stringify(rows)}\n`);
  await run(["sync", file]);
  const { statSync } = await import("node:fs");
  return { file, rows, bytes: statSync(file).size, seconds: since(t0) };
}
