// One adapter operation in a process of its own, for its peak RSS (run under /usr/bin/time -v):
//   node rss-child.mjs backup <url> <dir>              writes <dir>/artifact.json
//   node rss-child.mjs fingerprint <url> <dir>
//   node rss-child.mjs restore <url> <dir>             restores <dir>/artifact.json
// Uses the built package (dist/), as a user's program would.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [op, url, dir] = process.argv.slice(2);
const { openAdapter, parseDatabaseUrl } = await import(new URL("../../dist/index.js", import.meta.url).href);
const adapter = await openAdapter(parseDatabaseUrl(url, dir));
try {
  if (op === "backup") writeFileSync(join(dir, "artifact.json"), JSON.stringify(await adapter.backup(dir, "rss")));
  else if (op === "fingerprint") await adapter.fingerprint();
  else if (op === "restore") await adapter.restore(JSON.parse(readFileSync(join(dir, "artifact.json"), "utf8")));
  else throw new Error(`unknown operation ${op}`);
} finally {
  await adapter.close();
}
