// Creates or drops the example's journal database on the local PostgreSQL:
//
//   node journal-db.mjs create|drop <name>
//
// Connects as $PGUSER (postgres) to $PGHOST:$PGPORT (127.0.0.1:5432), password $PGPASSWORD if set.
import postgres from "postgres";

const [action, name] = process.argv.slice(2);
if (!/^[a-z_][a-z0-9_]*$/.test(name ?? "") || !["create", "drop"].includes(action)) {
  console.error("usage: journal-db.mjs create|drop <lowercase database name>");
  process.exit(2);
}
const sql = postgres({
  host: process.env.PGHOST ?? "127.0.0.1",
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? "postgres",
  password: process.env.PGPASSWORD ?? "",
  database: "postgres",
  max: 1,
  onnotice: () => undefined,
});
try {
  await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  if (action === "create") await sql.unsafe(`CREATE DATABASE ${name}`);
} finally {
  await sql.end({ timeout: 1 });
}
