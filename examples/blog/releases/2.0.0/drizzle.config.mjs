// drizzle-kit config for release 2.0.0 (used only to (re)generate ./drizzle; not needed at runtime).
// From the repo root:  npx drizzle-kit generate --config examples/blog/releases/2.0.0/drizzle.config.mjs --name posts_created_at_not_null
// (equivalent: npx drizzle-kit generate --dialect sqlite --schema examples/blog/releases/2.0.0/schema.mjs --out examples/blog/releases/2.0.0/drizzle --name posts_created_at_not_null)
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
// Paths relative to the cwd: drizzle-kit 0.31 mishandles an absolute `out` once the folder
// holds snapshots (it reads "./" + the absolute path).
const here = relative(process.cwd(), fileURLToPath(new URL(".", import.meta.url))) || ".";
export default {
  dialect: "sqlite",
  schema: `${here}/schema.mjs`,
  out: `${here}/drizzle`,
};
//
// Release 2.0.0's ./drizzle = release 1.0.0's ./drizzle + the new migration(s): it was made by
//   cp -R examples/blog/releases/1.0.0/drizzle examples/blog/releases/2.0.0/drizzle
// and then the generate command above, so drizzle-kit diffed 2.0.0's schema against 1.0.0's snapshot.
