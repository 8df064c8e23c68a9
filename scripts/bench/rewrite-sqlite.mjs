// Rewrites one row in `every` of the blog's posts (a title change: the row count stays the same),
// in one transaction, while the service runs. The benchmark's announce command, so the writes
// land between the hot backup and the stop.
//   node rewrite-sqlite.mjs <db> <every>
import Database from "better-sqlite3";

const [file, every] = process.argv.slice(2);
const db = new Database(file, { fileMustExist: true });
db.pragma("busy_timeout = 10000");
const n = db.prepare("UPDATE posts SET title = title || ' (edited)' WHERE id % ? = 0").run(Number(every)).changes;
db.close();
console.log(`rewrote ${n} posts`);
