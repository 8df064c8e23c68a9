import { cp } from "node:fs/promises";
import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    machine: "machines/index.ts",
    sqlite: "src/adapters/sqlite/index.ts",
    testing: "src/testing/index.ts",
    cli: "src/cli/bin.ts",
  },
  format: ["esm", "cjs"],
  dts: {
    entry: { index: "src/index.ts", machine: "machines/index.ts", sqlite: "src/adapters/sqlite/index.ts", testing: "src/testing/index.ts" },
  },
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
