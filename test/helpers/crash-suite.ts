import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { copyExample, eventKeys, prepareExample, runCli, type Example } from "./example.js";

// grace is journaled as skipped (no grace period); so is rehearse where the config turns it off
const upTo = (steps: string[]) =>
  steps.flatMap((s) =>
    s === "grace" || s === "rehearse:off" ? [`step.succeeded:${s.split(":")[0]}`] : [`step.started:${s}`, `step.succeeded:${s}`],
  );

/** Every event of a completed upgrade of the example, in order (2.0.0's migration rehearsed first). */
export const FORWARD_EVENTS = [
  "run.requested",
  ...upTo([
    "preflight",
    "backup",
    "lint",
    "rehearse",
    "announce",
    "grace",
    "stop",
    "seal",
    "upgradePackage",
    "migrate",
    "verify",
    "start",
    "health",
  ]),
  "run.completed",
];

/** Every event of an upgrade whose migration fails, rolled back (`addBrokenRelease` turns the rehearsal off). */
export const ROLLBACK_EVENTS = [
  "run.requested",
  ...upTo(["preflight", "backup", "lint", "rehearse:off", "announce", "grace", "stop", "seal", "upgradePackage"]),
  "step.started:migrate",
  "step.failed:migrate",
  // the new version was never started and nothing answers: journaled as skipped
  "step.succeeded:stopNewVersion",
  ...upTo(["restoreDatabase", "restoreFiles", "reinstallPrevious", "startPrevious", "verifyRestore"]),
  "run.rolledBack",
];

/** Every event of an upgrade whose new version starts but never gets healthy, rolled back. */
export const UNHEALTHY_ROLLBACK_EVENTS = [
  "run.requested",
  ...upTo(["preflight", "backup", "lint", "rehearse", "announce", "grace", "stop", "seal", "upgradePackage", "migrate", "verify", "start"]),
  "step.started:health",
  "step.failed:health",
  ...upTo(["stopNewVersion", "restoreDatabase", "restoreFiles", "reinstallPrevious", "startPrevious", "verifyRestore"]),
  "run.rolledBack",
];

/**
 * For every event boundary: run the real CLI with UPGRADE_MACHINE_CRASH_AFTER at that boundary
 * (it SIGKILLs itself right after the event is durable), then `resume`, then check the end state
 * of the database, the files and the service with `check(example)`.
 */
export function crashAtEveryBoundary(options: {
  port: number;
  toVersion: string;
  events: string[];
  expectedExit: number;
  /** The boundaries to crash at (default: every event). */
  crashAfter?: string[];
  prepare?: (ex: Example) => void;
  check: (ex: Example, before: { fingerprint: string; config: string }) => Promise<void>;
}): void {
  let ex: Example | undefined;
  // prepare.sh runs once; every case gets its own copy of the prepared example (service stopped in the template)
  let template: Example | undefined;
  beforeAll(async () => {
    template = await prepareExample(options.port);
    const stopped = await template.ctl("stop");
    if (stopped.code !== 0) throw new Error(`could not stop the template example: ${stopped.stdout}`);
  });
  afterAll(async () => {
    await template?.cleanup();
  });
  afterEach(async () => {
    await ex?.cleanup();
    ex = undefined;
  });

  it("an uninterrupted run journals exactly these events", async () => {
    ex = await copyExample(template!);
    options.prepare?.(ex);
    const r = await runCli(["run", "--config", ex.config, "--to", options.toVersion]);
    expect(r.code, r.stderr + r.stdout).toBe(options.expectedExit);
    expect(await eventKeys(ex.config)).toEqual(options.events);
  });

  for (const boundary of options.crashAfter ?? options.events) {
    it(`crash after ${boundary}, resume, ends right`, async () => {
      ex = await copyExample(template!);
      options.prepare?.(ex);
      const before = { fingerprint: await ex.fingerprint(), config: readFileSync(join(ex.dir, "blog.config.json"), "utf8") };
      const crashed = await runCli(["run", "--config", ex.config, "--to", options.toVersion], { UPGRADE_MACHINE_CRASH_AFTER: boundary });
      expect(crashed.signal, crashed.stderr).toBe("SIGKILL");
      const keys = await eventKeys(ex.config);
      expect(keys.at(-1)).toBe(boundary);
      // after the last step's result the machine is final; only the closing summary event is missing
      const done = options.events.indexOf(boundary) >= options.events.length - 2;
      const status = await runCli(["status", "--config", ex.config, "--json"]);
      expect(JSON.parse(status.stdout).state).toBe(done ? options.events.at(-1)!.slice(4) : "running");
      // a new run is refused while this one is unfinished
      if (!done) expect((await runCli(["run", "--config", ex.config, "--to", options.toVersion])).code).toBe(4);
      const resumed = await runCli(["resume", "--config", ex.config]);
      expect(resumed.code, resumed.stderr + resumed.stdout).toBe(options.expectedExit);
      const after = await eventKeys(ex.config);
      // the journal is the uninterrupted run's, plus one more step.started for the interrupted step
      const expected = [...options.events];
      if (boundary.startsWith("step.started:")) expected.splice(expected.indexOf(boundary) + 1, 0, boundary);
      expect(after).toEqual(expected);
      await options.check(ex, before);
    });
  }
}
