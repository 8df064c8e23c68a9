// A child process that takes the target lock of a database URL, prints `locked <identity>`, and
// holds it until it is killed: the target-lock tests SIGKILL it and take the lock at once.
import { openAdapter } from "../../src/adapters/registry.js";
import { parseDatabaseUrl } from "../../src/url.js";

const [url] = process.argv.slice(2);
const adapter = await openAdapter(parseDatabaseUrl(url!, process.cwd()));
try {
  const lock = await adapter.lockTarget();
  process.stdout.write(`locked ${lock.identity}\n`);
  setInterval(() => undefined, 1 << 30);
} catch (err) {
  process.stdout.write(`refused ${(err as { code?: string }).code}\n`);
  process.exit(4);
}
