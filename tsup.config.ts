import { cp } from "node:fs/promises";
import { defineConfig } from "tsup";

/** The package's entry points: "." and its subpaths, each in package.json's "exports". */
const LIBRARY = {
  index: "src/index.ts",
  machine: "machines/index.ts",
  sqlite: "src/adapters/sqlite/index.ts",
  postgres: "src/adapters/postgres/index.ts",
  mysql: "src/adapters/mysql/index.ts",
  testing: "src/testing/index.ts",
};

export default defineConfig({
  entry: { ...LIBRARY, cli: "src/cli/bin.ts" },
  format: ["esm", "cjs"],
  // Types for both formats (.d.ts and .d.cts) of every entry point of package.json's "exports".
  dts: { entry: LIBRARY },
  sourcemap: true,
  clean: true,
  target: "node20",
  splitting: true,
  shims: true,
  external: ["better-sqlite3", "postgres", "mysql2", "jiti", "fast-check", "@statelyai/inspect"],
  // The live view's page (HTML, JS, CSS) is served from files: ship them beside the chunks.
  async onSuccess() {
    await cp("src/view/assets", "dist/view-assets", { recursive: true });
  },
});
