// One process of the concurrent-migration tests (the contract suite, test/migrations-sqlite.test.ts).
//   node --import jiti/register migrate-child.ts <database URL> <migrations dir> [start at, epoch ms]
// Waits until the start time when one is given (a barrier shared with the other process), prints
// "ready" just before it asks for the migration lock, then the result of runMigrations (or the
// error code) as one JSON line.
import { openAdapter } from "../../src/adapters/registry.js";
import { isUpgradeError } from "../../src/errors.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";

const [url, dir, startAt] = process.argv.slice(2);
if (!url || !dir) throw new Error("usage: migrate-child.ts <url> <dir> [startAt]");
const wait = Number(startAt ?? 0) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
const adapter = await openAdapter(parseDatabaseUrl(url, process.cwd()));
try {
  const started = Date.now();
  console.log("ready");
  const result = await runMigrations(adapter.migrationDriver(), dir, { lockTimeoutMs: 30_000 });
  console.log(JSON.stringify({ ...result, ms: Date.now() - started }));
} catch (err) {
  console.log(JSON.stringify({ error: isUpgradeError(err) ? err.code : String(err) }));
  process.exitCode = 1;
} finally {
  await adapter.close();
}
