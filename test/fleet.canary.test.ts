// A failing canary halts the rollout: three running blog services (real processes, real SQLite,
// real migrations), the canary's 3.0.0 has a failing migration. Exactly one target changed and
// was rolled back; the others are untouched: database, files, version and the very same process.
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetStatus } from "../src/index.js";
import { addBrokenRelease, type Example, prepareExample, runCli } from "./helpers/example.js";
import { journalDatabase, removeDir, tempDir, writeFleet } from "./helpers/fleet.js";
import { observe, servicePid } from "./helpers/hostile.js";

const SMALL = ["--authors", "3", "--posts-per-author", "3", "--comments-per-post", "1"];
let dir: string;
let journal: Awaited<ReturnType<typeof journalDatabase>>;
let hubs: Example[] = [];

beforeAll(async () => {
  dir = tempDir("canary");
  journal = await journalDatabase("canary");
  hubs = await Promise.all([4661, 4662, 4663].map((port) => prepareExample(port, SMALL)));
  addBrokenRelease(hubs[0]!);
  for (const h of hubs.slice(1)) {
    const rel = join(h.dir, "releases", "3.0.0");
    cpSync(join(h.dir, "releases", "2.0.0"), rel, { recursive: true, dereference: true });
    writeFileSync(join(rel, "VERSION"), "3.0.0\n");
  }
}, 120_000);
afterAll(async () => {
  await Promise.all(hubs.map((h) => h.cleanup()));
  await journal?.drop();
  if (dir) removeDir(dir);
});

describe("fleet: a failing canary", () => {
  it("halts the rollout: the canary rolled back, every other target untouched (database, files, version, pid)", async () => {
    const file = writeFleet(dir, {
      name: "blogs",
      journal: journal.url,
      targets: hubs.map((h) => h.config),
      waves: [{ size: 1 }, { rest: true }],
      maxParallel: 2,
    });
    const before = await Promise.all(hubs.map((h) => observe(h)));
    const canaryPid = servicePid(hubs[0]!);
    const r = await runCli(["fleet", "run", "--fleet", file, "--to", "3.0.0"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const after = await Promise.all(hubs.map((h) => observe(h)));
    // The others: the very same world, the same process serving.
    expect(after[1]).toEqual(before[1]);
    expect(after[2]).toEqual(before[2]);
    // The canary: rolled back to the restore point, its previous version running again (a new process).
    expect(after[0]!.fingerprint).toBe(before[0]!.fingerprint);
    expect(after[0]!.version).toBe("1.0.0");
    expect(after[0]!.pid).not.toBeNull();
    expect(after[0]!.pid).not.toBe(canaryPid);
    expect((await hubs[0]!.health())?.version).toBe("1.0.0");
    const status = (await fleetStatus(file))!;
    expect(status.state).toBe("halted");
    expect(status.targets.map((t) => t.state)).toEqual(["rolledBack", "pending", "pending"]);
    expect(status.targets[0]!.runId).toMatch(/^\d{8}T\d{6}Z-/);
    const runs = await journal.sql`SELECT run_id FROM upgrade_machine_runs`;
    expect(runs.length).toBe(1);
  }, 180_000);
});
