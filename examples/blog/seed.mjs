// Creates a blog database at release 1.0.0 and fills it with deterministic data.
//
//   node seed.mjs <dbfile> [--authors N] [--posts-per-author M] [--comments-per-post K]
//                 [--min-rows-file <json>]
//   defaults: 50 authors, 20 posts per author, 5 comments per post (1000 posts, 5000 comments)
//
// --min-rows-file writes the seeded row counts ({"authors":..,"posts":..,"comments":..}) to a
// JSON file. The service never deletes rows, so these are floors: check.mjs (BLOG_MIN_ROWS)
// fails when a table holds fewer rows, which catches an upgrade that lost data.
//
// The schema comes from release 1.0.0's migrations applied with drizzle-orm's own migrate():
// fine for a fresh, empty database. Refuses to touch an existing file.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "./releases/1.0.0/schema.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const migrationsFolder = join(here, "releases", "1.0.0", "drizzle");

function usage(message) {
  if (message) console.error(`seed: ${message}`);
  console.error("usage: node seed.mjs <dbfile> [--authors N] [--posts-per-author M] [--comments-per-post K] [--min-rows-file <json>]");
  process.exit(2);
}

const options = { authors: 50, "posts-per-author": 20, "comments-per-post": 5 };
let dbFile;
let minRowsFile;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === "-h" || arg === "--help") usage();
  if (arg === "--min-rows-file" || arg.startsWith("--min-rows-file=")) {
    minRowsFile = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
    if (!minRowsFile) usage("--min-rows-file needs a path");
  } else if (arg.startsWith("--")) {
    let [key, value] = arg.slice(2).split("=", 2);
    if (!(key in options)) usage(`unknown option --${key}`);
    if (value === undefined) value = argv[++i];
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < 0) usage(`--${key} needs a non-negative integer`);
    options[key] = n;
  } else if (dbFile === undefined) {
    dbFile = arg;
  } else {
    usage(`unexpected argument ${arg}`);
  }
}
if (!dbFile) usage("missing <dbfile>");
dbFile = resolve(dbFile);
if (existsSync(dbFile)) {
  console.error(`seed: ${dbFile} already exists; refusing to seed over it (delete it first)`);
  process.exit(1);
}
mkdirSync(dirname(dbFile), { recursive: true });

const sqlite = new Database(dbFile);
sqlite.pragma("journal_mode = WAL");
sqlite.pragma("foreign_keys = ON");
const db = drizzle(sqlite, { schema });
migrate(db, { migrationsFolder });

// Deterministic pseudo-random text (mulberry32 with a fixed seed).
let state = 0x5eed;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const WORDS = (
  "upgrade schema sqlite backup rollback migration journal service health check version " +
  "release table column index cascade foreign key comment post author draft publish " +
  "quiet careful safe resumable event state machine step verify restore"
).split(" ");
function words(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]);
  return out.join(" ");
}

const { authors, posts, comments } = schema;
const BASE_TIME = 1_700_000_000; // 2023-11-14T22:13:20Z, unix seconds
const CHUNK = 500;

function insertChunked(table, rows) {
  const ids = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = db
      .insert(table)
      .values(rows.slice(i, i + CHUNK))
      .returning({ id: table.id })
      .all();
    for (const r of part) ids.push(r.id);
  }
  return ids;
}

db.transaction(() => {
  const authorRows = [];
  for (let a = 1; a <= options.authors; a++) {
    authorRows.push({ name: `Author ${a}`, email: a % 7 === 0 ? null : `author${a}@example.com` });
  }
  const authorIds = authorRows.length ? insertChunked(authors, authorRows) : [];

  const postRows = [];
  for (const [ai, authorId] of authorIds.entries()) {
    for (let p = 1; p <= options["posts-per-author"]; p++) {
      postRows.push({
        authorId,
        title: `Post ${p} by author ${ai + 1}: ${words(3)}`,
        body: words(20 + Math.floor(random() * 30)),
        createdAt: BASE_TIME + postRows.length * 3600,
      });
    }
  }
  const postIds = postRows.length ? insertChunked(posts, postRows) : [];

  const commentRows = [];
  for (const postId of postIds) {
    for (let c = 1; c <= options["comments-per-post"]; c++) {
      commentRows.push({ postId, body: `Comment ${c} on post ${postId}: ${words(5 + Math.floor(random() * 10))}` });
    }
  }
  if (commentRows.length) insertChunked(comments, commentRows);
});

const n = (table) => sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get().n;
const migrations = n("__drizzle_migrations");
const floors = { authors: n("authors"), posts: n("posts"), comments: n("comments") };
if (minRowsFile) writeFileSync(resolve(minRowsFile), `${JSON.stringify(floors)}\n`);
console.log(
  `seeded ${dbFile}: release 1.0.0 (${migrations} migration${migrations === 1 ? "" : "s"}), ` +
    `${n("authors")} authors, ${n("posts")} posts, ${n("comments")} comments`,
);
sqlite.close();
