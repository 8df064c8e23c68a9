import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UpgradeError } from "./errors.js";

let cached: string | undefined;

/**
 * The folder of upgrade-machine's package.json, found by walking up from this module, so the
 * same code finds `schema/migrations` from `src/` (tests) and from `dist/` (the built package).
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "upgrade-machine") {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new UpgradeError("E_INTERNAL", "upgrade-machine cannot find its own package.json", {
        hint: "the installation is broken: reinstall upgrade-machine",
      });
    dir = parent;
  }
}

/** The folder of the journal's drizzle-kit migrations for a dialect. */
export function journalMigrationsDir(dialect: "sqlite" | "pg" | "mysql"): string {
  return join(packageRoot(), "schema", "migrations", dialect);
}
