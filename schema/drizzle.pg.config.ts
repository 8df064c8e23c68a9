import { defineConfig } from "drizzle-kit";

/** drizzle-kit generates the journal's pg migrations from schema/pg.ts. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./schema/pg.ts",
  out: "./schema/migrations/pg",
});
