// One process of the concurrent-migration contract test.
//   node --import jiti/register migrate-child.ts <database URL> <migrations dir>
// Prints "ready" just before it asks for the migration lock, then the result of runMigrations
// (or the error code) as one JSON line.
import { openAdapter } from "../../src/adapters/open.js";
import { isUpgradeError } from "../../src/errors.js";
import { runMigrations } from "../../src/migrations/runner.js";
import { parseDatabaseUrl } from "../../src/url.js";

const [url, dir] = process.argv.slice(2);
if (!url || !dir) throw new Error("usage: migrate-child.ts <url> <dir>");
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
