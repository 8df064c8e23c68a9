import { defineConfig } from "drizzle-kit";

/** drizzle-kit generates the journal's mysql migrations from schema/mysql.ts. */
export default defineConfig({
  dialect: "mysql",
  schema: "./schema/mysql.ts",
  out: "./schema/migrations/mysql",
});
