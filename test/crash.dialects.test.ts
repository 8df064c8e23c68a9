import { defineServerCrashSuite } from "./helpers/crash-server.js";
import { serverAvailable, type ServerDialect } from "./helpers/servers.js";

/**
 * The spine's crash tests with the target on PostgreSQL and on MariaDB, and with the journal on
 * PostgreSQL: a database at the shop schema's first migration, upgraded to its last one (and a
 * failing migration that rolls back), killed with SIGKILL after every journal event, resumed.
 * The other PostgreSQL majors: test/crash.pg-majors.test.ts.
 */
const variants: { name: string; dialect: ServerDialect; journalOnServer: boolean; broken: boolean; backup?: { strategy: "template" } }[] = [
  { name: "target on PostgreSQL", dialect: "postgres", journalOnServer: false, broken: false },
  { name: "target on PostgreSQL, failing migration", dialect: "postgres", journalOnServer: false, broken: true },
  { name: "target on MariaDB", dialect: "mysql", journalOnServer: false, broken: false },
  { name: "target on MariaDB, failing migration", dialect: "mysql", journalOnServer: false, broken: true },
  { name: "target and journal on PostgreSQL", dialect: "postgres", journalOnServer: true, broken: false },
  {
    name: "target on PostgreSQL with template restore points, failing migration",
    dialect: "postgres",
    journalOnServer: false,
    broken: true,
    backup: { strategy: "template" },
  },
];

for (const v of variants) {
  const available = (await serverAvailable(v.dialect)) && (!v.journalOnServer || (await serverAvailable("postgres")));
  defineServerCrashSuite({ ...v, available });
}
