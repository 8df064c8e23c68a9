// The crash test with template restore points on every other PostgreSQL major (14, 16, 17, 18;
// Debian's 15 runs the full one in test/crash.dialects.test.ts): an upgrade whose migration fails
// and rolls back, killed with SIGKILL at each boundary of the steps that touch the database
// (preflight, backup, seal, migrate, restoreDatabase, verifyRestore), then resumed. The other
// boundaries belong to steps this scenario skips (no service, no package): they run no
// PostgreSQL code, so the full list on 15 covers them.
import { ROLLBACK, defineServerCrashSuite } from "./helpers/crash-server.js";
import { pgMajors } from "./helpers/pg-majors.js";

const DATABASE_STEPS = ["preflight", "backup", "seal", "migrate", "restoreDatabase", "verifyRestore"];
const boundaries = ROLLBACK.filter((e) => DATABASE_STEPS.includes(e.split(":")[1] ?? ""));

for (const m of (await pgMajors()).filter((m) => m.major !== 15)) {
  defineServerCrashSuite({
    name: `PostgreSQL ${m.major} with template restore points, failing migration`,
    dialect: "postgres",
    available: m.available,
    journalOnServer: false,
    broken: true,
    backup: { strategy: "template" },
    adminUrl: m.adminUrl,
    boundaries,
  });
}
