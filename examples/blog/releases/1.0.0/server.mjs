// Example blog service, one release of it ("package" = this directory).
//
//   BLOG_DB    path of the SQLite database (default: <install>/data/blog.sqlite)
//   BLOG_PORT  TCP port (default 4000), BLOG_HOST bind address (default 127.0.0.1)
//
// The service never migrates its database by itself: on start it compares the rows of
// drizzle's __drizzle_migrations with the entries of its own drizzle/meta/_journal.json
// and refuses to run when they differ ("run the upgrade").
import http from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { count, desc, eq } from "drizzle-orm";
import * as schema from "./schema.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const VERSION = readFileSync(join(here, "VERSION"), "utf8").trim();
const journal = JSON.parse(readFileSync(join(here, "drizzle", "meta", "_journal.json"), "utf8"));
const NEEDED = journal.entries.length;

const dbPath = resolve(process.env.BLOG_DB || join(here, "..", "..", "data", "blog.sqlite"));
const port = Number(process.env.BLOG_PORT || 4000);
const host = process.env.BLOG_HOST || "127.0.0.1";

function fail(message) {
  console.error(`blog ${VERSION}: ${message}`);
  process.exit(1);
}

let sqlite;
try {
  sqlite = new Database(dbPath, { fileMustExist: true });
} catch (err) {
  fail(`cannot open database ${dbPath}: ${err.message}`);
}
sqlite.pragma("busy_timeout = 5000");

function appliedMigrations() {
  const table = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (!table) return 0;
  return sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get().n;
}

const applied = appliedMigrations();
if (applied !== NEEDED) {
  sqlite.close();
  fail(`database schema is at ${applied} migrations, release ${VERSION} needs ${NEEDED}: run the upgrade`);
}

sqlite.pragma("journal_mode = WAL");
sqlite.pragma("foreign_keys = ON");
const db = drizzle(sqlite, { schema });
const { authors, posts, comments } = schema;

// ---- helpers ---------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1_000_000) throw new HttpError(413, "request body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

function positiveInt(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `${name} must be a positive integer`);
  return n;
}

function nonEmptyString(value, name) {
  if (typeof value !== "string" || value.trim() === "") throw new HttpError(400, `${name} must be a non-empty string`);
  return value;
}

function constraintError(err, message) {
  if (err && typeof err.code === "string" && err.code.startsWith("SQLITE_CONSTRAINT")) {
    return new HttpError(400, message);
  }
  return err;
}

// ---- routes ----------------------------------------------------------------------------

function health() {
  return { status: "ok", version: VERSION, migrations: appliedMigrations() };
}

function stats() {
  const n = (table) => db.select({ n: count() }).from(table).get().n;
  return { authors: n(authors), posts: n(posts), comments: n(comments) };
}

function listPosts(url) {
  const raw = url.searchParams.get("limit");
  const limit = raw === null ? 20 : Math.min(positiveInt(raw, "limit"), 1000);
  return db
    .select({
      id: posts.id,
      authorId: posts.authorId,
      author: authors.name,
      title: posts.title,
      body: posts.body,
      createdAt: posts.createdAt,
    })
    .from(posts)
    .innerJoin(authors, eq(posts.authorId, authors.id))
    .orderBy(desc(posts.id))
    .limit(limit)
    .all();
}

function createPost(input) {
  const authorId = positiveInt(input.authorId, "authorId");
  const title = nonEmptyString(input.title, "title");
  const body = input.body == null ? null : String(input.body);
  try {
    // 1.0.0: created_at is nullable without a default, so the service sets it.
    return db
      .insert(posts)
      .values({ authorId, title, body, createdAt: Math.floor(Date.now() / 1000) })
      .returning()
      .get();
  } catch (err) {
    throw constraintError(err, `no author with id ${authorId}`);
  }
}

function createComment(input) {
  const postId = positiveInt(input.postId, "postId");
  const body = nonEmptyString(input.body, "body");
  try {
    return db.insert(comments).values({ postId, body }).returning().get();
  } catch (err) {
    throw constraintError(err, `no post with id ${postId}`);
  }
}

async function route(req, res) {
  const url = new URL(req.url, `http://${req.headers.host || "localhost"}`);
  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case "GET /health":
      return send(res, 200, health());
    case "GET /api/stats":
      return send(res, 200, stats());
    case "GET /api/posts":
      return send(res, 200, listPosts(url));
    case "POST /api/posts":
      return send(res, 201, createPost(await readJson(req)));
    case "POST /api/comments":
      return send(res, 201, createComment(await readJson(req)));
    default:
      throw new HttpError(404, `no route ${key}`);
  }
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    if (err instanceof HttpError) return send(res, err.status, { error: err.message });
    if (err && err.code === "SQLITE_BUSY") return send(res, 503, { error: "database busy" });
    console.error(`blog ${VERSION}: ${req.method} ${req.url} failed:`, err);
    if (!res.headersSent) send(res, 500, { error: "internal error" });
    else res.destroy();
  });
});

server.on("error", (err) => {
  try {
    sqlite.close();
  } catch {}
  fail(`cannot listen on ${host}:${port}: ${err.message}`);
});

server.listen(port, host, () => {
  // ctl.sh waits for this line (with this pid) to know the service is up.
  console.log(`blog ${VERSION} listening on http://${host}:${port} (pid ${process.pid}); db ${dbPath}, ${applied} migrations`);
});

// ---- graceful shutdown -----------------------------------------------------------------

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`blog ${VERSION}: ${signal}, shutting down`);
  server.close(() => {
    sqlite.close(); // last connection: checkpoints the WAL into the main file
    console.log(`blog ${VERSION}: stopped`);
    process.exit(0);
  });
  server.closeIdleConnections();
  // Requests still running after 5 s are cut off so the service stops well within ctl.sh's 10 s.
  setTimeout(() => server.closeAllConnections(), 5000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
