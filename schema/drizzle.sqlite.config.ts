import { defineConfig } from "drizzle-kit";

/** drizzle-kit generates the journal's sqlite migrations from schema/sqlite.ts. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./schema/sqlite.ts",
  out: "./schema/migrations/sqlite",
});
