// Rollouts in process on real SQLite services (copies of the example blog, no running service)
// with the shared journal on the local PostgreSQL: the failure threshold by count and by percent,
// and the pause between waves.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetStatus, rollout } from "../src/index.js";
import { blogTemplate, journalDatabase, removeDir, serviceLessTarget, tempDir, versionOf, writeFleet } from "./helpers/fleet.js";
import { sqliteFingerprint } from "./helpers/hostile.js";

let dir: string;
let template: string;
let journal: Awaited<ReturnType<typeof journalDatabase>>;

beforeAll(async () => {
  dir = tempDir("threshold");
  template = await blogTemplate(dir, 4660);
  journal = await journalDatabase("threshold");
});
afterAll(async () => {
  await journal?.drop();
  if (dir) removeDir(dir);
});

/** A fleet of `broken.length` targets named t0, t1...; `broken[i]` makes target i's migration fail. */
function fleetOf(name: string, broken: boolean[], extra: Record<string, unknown>): { file: string; dirs: string[] } {
  const base = join(dir, name);
  const dirs = broken.map((b, i) => {
    const d = join(base, "hubs", `t${i}`);
    serviceLessTarget(template, d, b);
    return d;
  });
  return { file: writeFleet(base, { name, journal: journal.url, targets: ["./hubs/*/upgrade.json"], ...extra }), dirs };
}

describe("fleet: the failure threshold", () => {
  it("by count: a wave with more failures than the count halts; targets not started stay untouched", async () => {
    const { file, dirs } = fleetOf("count", [false, true, true, false, false], {
      waves: [{ size: 1 }, { rest: true }],
      failureThreshold: 1,
      maxParallel: 1,
    });
    const untouched = await sqliteFingerprint(join(dirs[4]!, "data", "blog.sqlite"));
    const result = await rollout(file, { toVersion: "2.0.0" });
    expect(result.state).toBe("halted");
    const status = (await fleetStatus(file))!;
    expect(status.state).toBe("halted");
    expect(status.targets.map((t) => [t.name, t.state])).toEqual([
      ["hubs/t0", "completed"],
      ["hubs/t1", "rolledBack"],
      ["hubs/t2", "rolledBack"],
      ["hubs/t3", "pending"],
      ["hubs/t4", "pending"],
    ]);
    expect(dirs.map(versionOf)).toEqual(["2.0.0", "1.0.0", "1.0.0", "1.0.0", "1.0.0"]);
    expect(await sqliteFingerprint(join(dirs[4]!, "data", "blog.sqlite"))).toBe(untouched);
  });

  it('by percent: "50%" of a wave of 4 lets two fail and the rollout completes; "25%" halts at the second', async () => {
    const half = fleetOf("half", [false, true, true, false, false], {
      waves: [{ size: 1 }, { rest: true }],
      failureThreshold: "50%",
      maxParallel: 2,
    });
    expect((await rollout(half.file, { toVersion: "2.0.0" })).state).toBe("completed");
    expect(half.dirs.map(versionOf)).toEqual(["2.0.0", "1.0.0", "1.0.0", "2.0.0", "2.0.0"]);
    const quarter = fleetOf("quarter", [false, true, true, false, false], {
      waves: [{ size: 1 }, { rest: true }],
      failureThreshold: "25%",
    });
    expect((await rollout(quarter.file, { toVersion: "2.0.0" })).state).toBe("halted");
    expect(quarter.dirs.map(versionOf).slice(3)).toEqual(["1.0.0", "1.0.0"]);
  });

  it("pauseBetweenWaves: the next wave opens no sooner than the pause after the wave before ended, by the journal's clock", async () => {
    const { file } = fleetOf("pause", [false, false, false], { waves: [{ size: 1 }, { rest: true }], pauseBetweenWaves: 2 });
    expect((await rollout(file, { toVersion: "2.0.0" })).state).toBe("completed");
    const events = await journal.sql<{ type: string; target: string | null; payload: string; at: string }[]>`
      SELECT e.type, e.target, e.payload, e.at FROM upgrade_machine_rollout_events e
      JOIN upgrade_machine_rollouts r USING (rollout_id) WHERE r.fleet = 'pause' ORDER BY e.seq`;
    const opened = events.filter((e) => e.type === "wave.opened");
    expect(opened.map((e) => JSON.parse(e.payload).wave)).toEqual([0, 1]);
    const canaryEnd = events.find((e) => e.type === "target.ended" && e.target === "hubs/t0")!;
    const gap = Date.parse(opened[1]!.at) - Date.parse(canaryEnd.at);
    expect(gap).toBeGreaterThanOrEqual(2000);
    // The second wave's targets started after it opened, not before.
    const starts = events.filter((e) => e.type === "target.started" && e.target !== "hubs/t0");
    expect(starts.length).toBe(2);
    for (const e of starts) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Date.parse(opened[1]!.at));
  });
});
