import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { upgrade } from "../src/api.js";
import type { Downtime } from "../src/runner/downtime.js";
import { cli } from "./helpers/cli.js";
import { addBrokenRelease, prepareExample, type Example } from "./helpers/example.js";

interface Ev {
  seq: number;
  type: string;
  step: string | null;
  at: string;
}

/** The run's events, as `history --json` lists them. */
async function historyOf(ex: Example): Promise<Ev[]> {
  return (await cli(["history", "--config", ex.config, "--json"])).lines as Ev[];
}

const at = (e: Ev | undefined) => Date.parse(e!.at);
const find = (events: Ev[], type: string, step: string) => events.find((e) => e.type === type && e.step === step);

/**
 * The seconds between steps inside the window: from each step event's predecessor inside the
 * window to the next `step.started` (the runner's own work between two steps, skipped steps' events).
 */
function gapsInside(events: Ev[], d: Downtime): number {
  const inside = events.filter((e) => at(e) >= Date.parse(d.from!) && at(e) <= Date.parse(d.to!));
  let gaps = 0;
  let open = 0; // steps running at the moment: no gap while one runs
  for (let i = 1; i < inside.length; i++) {
    const prev = inside[i - 1]!;
    if (prev.type === "step.started") open++;
    if ((prev.type === "step.succeeded" || prev.type === "step.failed") && find(inside, "step.started", prev.step!)) open--;
    if (open === 0) gaps += at(inside[i]) - at(prev);
  }
  return gaps / 1000;
}

const sum = (d: Downtime) => Object.values(d.steps).reduce((a, b) => a + b, 0);

describe("the downtime of a run, from the journal's times", () => {
  const examples: Example[] = [];
  afterAll(async () => {
    for (const ex of examples) await ex.cleanup();
  });

  it("of a completed run: from the start of stop to the end of health, each step's share adding up to it with the gaps", async () => {
    const ex = await prepareExample(4543);
    examples.push(ex);
    const run = await cli(["run", "--config", ex.config, "--to", "2.0.0", "--json"]);
    expect(run.code).toBe(0);
    const result = run.lines.at(-1) as { type: string; state: string; downtime: Downtime };
    expect(result).toMatchObject({ type: "result", state: "completed" });
    const d = result.downtime;
    const events = await historyOf(ex);
    // the window's edges are the start of stop and the end of health
    expect(d.from).toBe(find(events, "step.started", "stop")!.at);
    expect(d.to).toBe(find(events, "step.succeeded", "health")!.at);
    expect(d.down).toBe(false);
    expect(d.seconds).toBeCloseTo((at(find(events, "step.succeeded", "health")) - at(find(events, "step.started", "stop"))) / 1000, 3);
    // the steps inside, and only those (announce and grace ran before the stop)
    expect(Object.keys(d.steps)).toEqual(["stop", "seal", "upgradePackage", "migrate", "verify", "start", "health"]);
    for (const [step, s] of Object.entries(d.steps)) {
      expect(s).toBeCloseTo((at(find(events, "step.succeeded", step)) - at(find(events, "step.started", step))) / 1000, 3);
    }
    // shares + the runner's gaps between steps = the total
    expect(sum(d) + gapsInside(events, d)).toBeCloseTo(d.seconds, 2);
    expect(d.seconds).toBeGreaterThan(0);

    // status says the same, as JSON and in one human line
    const status = await cli(["status", "--config", ex.config, "--json"]);
    expect(status.lines[0].downtime).toEqual(d);
    const human = await cli(["status", "--config", ex.config]);
    const line = human.stdout.split("\n").find((l) => l.includes("downtime"))!;
    expect(line).toContain(`downtime ${d.seconds.toFixed(2)} s: stop ${d.steps.stop!.toFixed(2)}, seal`);
  });

  it("is 0 for a run that aborted before the stop", async () => {
    const ex = await prepareExample(4544);
    examples.push(ex);
    writeFileSync(join(ex.dir, "notify.sh"), "#!/bin/sh\necho 'chat is down' >&2\nexit 7\n");
    const result = await upgrade(ex.config, { toVersion: "2.0.0" });
    expect(result.state).toBe("aborted");
    expect(result.failure?.step).toBe("announce");
    expect(result.downtime).toEqual({ seconds: 0, steps: {}, from: null, to: null, down: false });
    expect(await ex.health()).toMatchObject({ version: "1.0.0" });
  });

  it("of a rolled-back run: from the start of stop to the previous version healthy again (the end of startPrevious)", async () => {
    const ex = await prepareExample(4545);
    examples.push(ex);
    addBrokenRelease(ex);
    // ctl.sh start returns once the server listens: give it the time it takes on a busy machine,
    // so that it is recorded as a start command that exited, not as the service itself
    const config = JSON.parse(readFileSync(ex.config, "utf8"));
    config.service.start.settleSeconds = 20;
    writeFileSync(ex.config, JSON.stringify(config));
    const result = await upgrade(ex.config, { toVersion: "3.0.0" });
    expect(result.rollbackFailure).toBeNull();
    expect(result.state).toBe("rolledBack");
    const d = result.downtime;
    const events = await historyOf(ex);
    expect(d.from).toBe(find(events, "step.started", "stop")!.at);
    expect(d.to).toBe(find(events, "step.succeeded", "startPrevious")!.at);
    expect(d.down).toBe(false);
    expect(d.steps).toHaveProperty("migrate");
    expect(d.steps).toHaveProperty("restoreDatabase");
    expect(d.steps).toHaveProperty("startPrevious");
    expect(d.steps).not.toHaveProperty("verifyRestore"); // it checks a service that already serves
    expect(sum(d) + gapsInside(events, d)).toBeCloseTo(d.seconds, 2);
    expect(await ex.health()).toMatchObject({ version: "1.0.0" });
  });
});
