// Shows the trap the upgrade-machine's migrator avoids: applying a release's migrations with
// drizzle-orm's own migrate() on a COPY of a blog database, and the row counts before/after.
//
//   node drizzle-trap.mjs <dbfile> [release, default 2.0.0] [--keep]
//
// Release 2.0.0's migration rebuilds `posts` (PRAGMA foreign_keys=OFF; ... DROP TABLE posts ...).
// drizzle's migrate() runs all statements inside one transaction, where PRAGMA foreign_keys is
// a no-op; better-sqlite3 has foreign keys ON, so DROP TABLE posts deletes every post row first
// and ON DELETE CASCADE deletes every comment. The migration "succeeds"; the comments are gone.
// The original database is never touched (the copy is made with SQLite's online backup).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const keep = args.includes("--keep");
const [source, release = "2.0.0"] = args.filter((a) => a !== "--keep");
if (!source) {
  console.error("usage: node drizzle-trap.mjs <dbfile> [release] [--keep]");
  process.exit(2);
}
const migrationsFolder = join(here, "releases", release, "drizzle");

const dir = mkdtempSync(join(tmpdir(), "blog-drizzle-trap-"));
const copy = join(dir, "copy.sqlite");
const src = new Database(resolve(source), { readonly: true, fileMustExist: true });
await src.backup(copy);
src.close();

const sqlite = new Database(copy);
const counts = () => {
  const n = (t) => sqlite.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
  const migrations = sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()
    .n
    ? n("__drizzle_migrations")
    : 0;
  return { authors: n("authors"), posts: n("posts"), comments: n("comments"), migrations };
};

const before = counts();
console.log(`before drizzle migrate() (${source} copy):`, JSON.stringify(before));
console.log(`PRAGMA foreign_keys on the connection: ${sqlite.pragma("foreign_keys", { simple: true })}`);
let error;
try {
  migrate(drizzle(sqlite), { migrationsFolder });
} catch (err) {
  error = err;
  console.log(`drizzle migrate() threw: ${err.message}`);
}
const after = counts();
console.log(`after drizzle migrate() to release ${release}:`, JSON.stringify(after));
const lost = Object.fromEntries(["authors", "posts", "comments"].map((t) => [t, before[t] - after[t]]).filter(([, d]) => d !== 0));
console.log(
  Object.keys(lost).length ? `rows lost: ${JSON.stringify(lost)}${error ? "" : " (and migrate() reported success)"}` : "no rows lost",
);
sqlite.close();
if (keep) console.log(`copy kept at ${copy}`);
else rmSync(dir, { recursive: true, force: true });
