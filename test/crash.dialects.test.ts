import { FORWARD, ROLLBACK, defineServerCrashSuite } from "./helpers/crash-server.js";
import { serverAvailable, type ServerDialect } from "./helpers/servers.js";

/**
 * The spine's crash tests with the target on PostgreSQL and on MariaDB, and with the journal on
 * PostgreSQL: a database at the shop schema's first migration, upgraded to its last one (and a
 * failing migration that rolls back), killed with SIGKILL after a journal event, resumed.
 * With the journal on PostgreSQL, after every event (each one is an append to that journal).
 * With the journal on SQLite, after each event of the steps that run (preflight, backup, lint,
 * rehearse, seal, migrate, verify, restoreDatabase, verifyRestore): the target's dialect runs in
 * them. The other events are run.requested, the closing event and those of the steps this
 * scenario skips (no service, no package, no announcement): they run no code of the target's
 * dialect, and the resumed run goes on exactly as after the step event before them. Crashes after
 * those events are test/crash.forward.test.ts's and test/crash.rollback.test.ts's on SQLite
 * (skipped steps: step.succeeded:grace there, and step.succeeded:stopNewVersion).
 * The other PostgreSQL majors: test/crash.pg-majors.test.ts.
 */
/** The events of the steps that run (those with a step.started event). */
const ranSteps = (events: string[]) => events.filter((e) => events.includes(`step.started:${e.split(":")[1]}`));
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
  defineServerCrashSuite({ ...v, available, ...(v.journalOnServer ? {} : { boundaries: ranSteps(v.broken ? ROLLBACK : FORWARD) }) });
}
