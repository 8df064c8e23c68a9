import { describe, expect, it, onTestFinished } from "vitest";
import { eventKeys, runCli } from "./helpers/example.js";
import { jupyterhubInstalled, NEW_REVISION, NEW_VERSION, TestHub, TOKEN_ENV } from "./helpers/jupyterhub.js";

// The built CLI (dist/cli.js, built by test/global-setup.ts) upgrades a running Hub with users
// and groups on SQLite, and SIGKILLs itself right after one journal event is durable
// (UPGRADE_MACHINE_CRASH_AFTER); `resume` must then end the run exactly as an uninterrupted
// run ends, with the same journal (plus one step.started for the interrupted step).
// It crashes at the boundaries where the preset's own effects run or are resumed: the Hub's stop,
// the package switch (fake pip), upgrade-db, the start and the health check forward, and every
// step of the rollback (the restore of the Hub's SQLite database and config, the reinstall, the
// start of the previous Hub, its verification). The other boundaries (run.requested, preflight,
// backup, the skipped lint/rehearse/announce/grace/verify, seal, and the two events after which
// the machine is final) run the general SQLite steps or only the journal, and
// test/crash.forward.test.ts and test/crash.rollback.test.ts crash at each of them on the example.
const INSTALLED = jupyterhubInstalled();
if (!INSTALLED && !process.env.CI)
  console.warn(
    "SKIPPED test/jupyterhub.crash.e2e.test.ts: JupyterHub is not installed (apt-get install --no-install-recommends jupyterhub alembic)",
  );
const hubSuite = INSTALLED || process.env.CI ? describe : describe.skip;
const TIMEOUT = 120_000;

const OLD_HEAD = "651f5419b74d";
const both = (...steps: string[]) => steps.flatMap((s) => [`step.started:${s}`, `step.succeeded:${s}`]);
const UNTIL_MIGRATE = [
  "run.requested",
  ...both("preflight", "backup"),
  // upgrade-db is a command, which the lint does not read; with no staged new JupyterHub it is not
  // rehearsed either: both journaled as skipped
  "step.succeeded:lint",
  "step.succeeded:rehearse",
  "step.succeeded:announce",
  "step.succeeded:grace",
  ...both("stop", "seal", "upgradePackage"),
];
const FORWARD = [...UNTIL_MIGRATE, ...both("migrate"), "step.succeeded:verify", ...both("start", "health"), "run.completed"];
/** The forward boundaries after which the resumed run starts with (or re-runs) one of the preset's effects. */
const PRESET_FORWARD = [...both("stop", "upgradePackage", "migrate", "start"), "step.started:health"];
const ROLLBACK = [
  ...UNTIL_MIGRATE,
  "step.started:migrate",
  "step.failed:migrate",
  "step.succeeded:stopNewVersion",
  ...both("restoreDatabase", "restoreFiles", "reinstallPrevious", "startPrevious", "verifyRestore"),
  "run.rolledBack",
];

const FLOWS = [
  {
    name: "an upgrade to a release with a new migration",
    release: "good",
    events: FORWARD,
    crashAfter: PRESET_FORWARD,
    exit: 0,
    version: NEW_VERSION,
    revision: NEW_REVISION,
  },
  {
    name: "the rollback of a release whose migration fails half-way",
    release: "failing",
    events: ROLLBACK,
    crashAfter: ROLLBACK.slice(ROLLBACK.indexOf("step.failed:migrate"), ROLLBACK.indexOf("step.succeeded:verifyRestore")),
    exit: 1,
    version: "3.0.0",
    revision: OLD_HEAD,
  },
] as const;

async function prepare(release: "good" | "failing") {
  const hub = await TestHub.create("sqlite");
  onTestFinished(() => hub.cleanup());
  await hub.start();
  const before = await hub.seed();
  return { hub, before, config: hub.writeUpgradeConfig(release), env: { [TOKEN_ENV]: hub.token } };
}

for (const flow of FLOWS) {
  hubSuite(`JupyterHub: a crash at each boundary of ${flow.name}, then resume`, () => {
    it(
      "an uninterrupted run journals exactly these events",
      async () => {
        const { hub, config, env } = await prepare(flow.release);
        const r = await runCli(["run", "--config", config], env);
        expect(r.code, r.stderr + r.stdout).toBe(flow.exit);
        expect(await eventKeys(config)).toEqual(flow.events);
        expect(hub.journalText()).not.toContain(hub.token);
      },
      TIMEOUT,
    );

    for (const boundary of flow.crashAfter) {
      it(
        `crash after ${boundary}, resume: ends ${flow.events.at(-1)!.slice(4)}, the Hub at ${flow.version} serving the same users`,
        async () => {
          const { hub, before, config, env } = await prepare(flow.release);
          const crashed = await runCli(["run", "--config", config], { ...env, UPGRADE_MACHINE_CRASH_AFTER: boundary });
          expect(crashed.signal, crashed.stderr + crashed.stdout).toBe("SIGKILL");
          expect((await eventKeys(config)).at(-1)).toBe(boundary);
          // after the last step's result the machine is final; only the closing event is missing
          const done = flow.events.indexOf(boundary) >= flow.events.length - 2;
          if (!done) expect((await runCli(["run", "--config", config], env)).code).toBe(4);
          const resumed = await runCli(["resume", "--config", config], env);
          expect(resumed.code, resumed.stderr + resumed.stdout).toBe(flow.exit);
          const expected: string[] = [...flow.events];
          if (boundary.startsWith("step.started:")) expected.splice(expected.indexOf(boundary) + 1, 0, boundary);
          expect(await eventKeys(config)).toEqual(expected);
          expect(await hub.version()).toBe(flow.version);
          expect(await hub.revision()).toBe(flow.revision);
          expect(await hub.membership()).toEqual(before);
          expect(hub.journalText()).not.toContain(hub.token);
          for (const out of [crashed.stdout, crashed.stderr, resumed.stdout, resumed.stderr]) expect(out).not.toContain(hub.token);
        },
        TIMEOUT,
      );
    }
  });
}
