// pause, resume, cancel and approve given from other processes (the real CLI) to a rollout that a
// worker process drives; a second rollout refused while one is unfinished (exit 4); a command the
// rollout cannot take now refused (exit 2) with nothing journaled.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetStatus, type RolloutStatus } from "../src/index.js";
import { CLI, runCli } from "./helpers/example.js";
import { blogTemplate, journalDatabase, removeDir, serviceLessTarget, tempDir, versionOf, writeFleet } from "./helpers/fleet.js";

let dir: string;
let journal: Awaited<ReturnType<typeof journalDatabase>>;
const dirs: string[] = [];

beforeAll(async () => {
  dir = tempDir("commands");
  journal = await journalDatabase("commands");
  const template = await blogTemplate(dir, 4664);
  for (let i = 0; i < 4; i++) {
    dirs.push(join(dir, "fleet", `t${i}`));
    serviceLessTarget(template, dirs[i]!);
  }
}, 120_000);
afterAll(async () => {
  await journal?.drop();
  if (dir) removeDir(dir);
});

async function until(what: string, file: string, ok: (s: RolloutStatus) => boolean): Promise<RolloutStatus> {
  const end = Date.now() + 60_000;
  for (;;) {
    const s = await fleetStatus(file);
    if (s && ok(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("fleet: commands from another process", () => {
  it("approve opens the next wave, pause holds it, resume continues, cancel ends it with queued targets untouched", async () => {
    const file = writeFleet(join(dir, "fleet"), {
      name: "hubs",
      journal: journal.url,
      targets: ["./*/upgrade.json"],
      waves: [{ size: 1 }, { size: 1 }, { rest: true }],
      approve: true,
    });
    const child = spawn(process.execPath, [CLI, "fleet", "run", "--fleet", file, "--to", "2.0.0", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    const exit = new Promise<number | null>((r) => child.on("close", r));

    await until("the canary", file, (s) => s.targets[0]!.state === "completed");
    expect((await runCli(["fleet", "resume", "--fleet", file])).code).toBe(2); // not paused
    expect((await runCli(["fleet", "run", "--fleet", file, "--to", "2.0.0"])).code).toBe(4); // unfinished rollout
    expect((await runCli(["fleet", "pause", "--fleet", file])).code).toBe(0);
    expect((await runCli(["fleet", "approve", "--fleet", file])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // the worker polls every 250 ms
    const paused = (await fleetStatus(file))!;
    expect(paused.state).toBe("paused");
    expect(paused.targets[1]!.state).toBe("pending");
    expect((await runCli(["fleet", "resume", "--fleet", file])).code).toBe(0);
    await until("the second wave", file, (s) => s.targets[1]!.state === "completed");
    const waiting = (await fleetStatus(file))!;
    expect(waiting.waves.map((w) => w.state)).toEqual(["done", "open", "pending"]); // wave 2 waits for approval
    const cancel = await runCli(["fleet", "cancel", "--fleet", file, "--json"]);
    expect(cancel.code).toBe(0);
    expect(await exit, out).toBe(1);
    const end = (await fleetStatus(file))!;
    expect(end.state).toBe("cancelled");
    expect(end.targets.map((t) => t.state)).toEqual(["completed", "completed", "pending", "pending"]);
    expect(dirs.map(versionOf)).toEqual(["2.0.0", "2.0.0", "1.0.0", "1.0.0"]);
    const history = await runCli(["fleet", "history", "--fleet", file, "--json"]);
    expect(
      history.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).state),
    ).toEqual(["cancelled"]);
    expect(out).toContain('"type":"wave.opened"');
  }, 180_000);
});
