import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FORWARD_EVENTS } from "./helpers/crash-suite.js";
import { eventKeys, prepareExample, runCli, type Example } from "./helpers/example.js";
import { changePresent, latestRunId, patientStart, stateOf } from "./helpers/restore.js";

// A restore run killed with SIGKILL after each journal event of the steps that do a restore's own
// work (upgradePackage reinstalls the earlier version, migrate puts the restore point back, verify
// proves it; every other step is the upgrade's own, whose boundaries test/crash.forward covers),
// and after its first and last event, then `resume`: it ends completed with the restore point's
// database, files and version, as an uninterrupted one does. The
// restores alternate on one example: each restores the restore point of the one before (whose own
// restore point is the state it replaced), so the expected end state alternates between the state
// before the upgrade (1.0.0) and the state after it (2.0.0, with a row and the config changed).

const RESTORE_STEPS = ["upgradePackage", "migrate", "verify"];
/** A restore run's events: the upgrade's, with lint and rehearse journaled as skipped (no migration is applied). */
const EVENTS = FORWARD_EVENTS.filter((e) => e !== "step.started:lint" && e !== "step.started:rehearse");
const BOUNDARIES = EVENTS.filter((e, i) => i === 0 || i === EVENTS.length - 1 || RESTORE_STEPS.includes(e.split(":")[1] ?? ""));

describe("crash at every boundary of a restore's own steps on SQLite (port 4604), then resume", () => {
  let ex: Example;
  const states: Awaited<ReturnType<typeof stateOf>>[] = [];
  let source = "";

  beforeAll(async () => {
    ex = await prepareExample(4604);
    patientStart(ex);
    states.push(await stateOf(ex));
    expect((await runCli(["run", "--config", ex.config, "--to", "2.0.0"])).code).toBe(0);
    source = await latestRunId(ex.config);
    changePresent(ex, "present");
    states.push(await stateOf(ex));
    expect(states[0]!.serving).toBe("1.0.0");
    expect(states[1]!.serving).toBe("2.0.0");
  }, 120_000);
  afterAll(async () => {
    await ex?.cleanup();
  });

  BOUNDARIES.forEach((boundary, i) => {
    it(`crash after ${boundary}, resume, ends right`, async () => {
      const expected = states[i % 2]!;
      const crashed = await runCli(["restore", "--config", ex.config, "--run", source], { UPGRADE_MACHINE_CRASH_AFTER: boundary });
      expect(crashed.signal, crashed.stderr + crashed.stdout).toBe("SIGKILL");
      expect((await eventKeys(ex.config)).at(-1)).toBe(boundary);
      const run = await latestRunId(ex.config);
      expect(run).not.toBe(source);
      const done = EVENTS.indexOf(boundary) >= EVENTS.length - 2;
      expect(JSON.parse((await runCli(["status", "--config", ex.config, "--json"])).stdout).state).toBe(done ? "completed" : "running");
      if (!done) expect((await runCli(["restore", "--config", ex.config, "--run", source])).code).toBe(4);
      const resumed = await runCli(["resume", "--config", ex.config]);
      expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
      const keys = [...EVENTS];
      if (boundary.startsWith("step.started:")) keys.splice(keys.indexOf(boundary) + 1, 0, boundary);
      expect(await eventKeys(ex.config)).toEqual(keys);
      expect(JSON.parse((await runCli(["status", "--config", ex.config, "--json"])).stdout)).toMatchObject({
        runId: run,
        kind: "restore",
        restoreOf: source,
        state: "completed",
      });
      expect(await stateOf(ex)).toEqual(expected);
      expect((await ex.ctl("check")).code).toBe(0);
      source = run;
    }, 180_000);
  });
});
