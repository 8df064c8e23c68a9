// The crash hook (UPGRADE_MACHINE_CRASH_AFTER) is a testing aid: the CLI honours it, the library's
// upgrade() does not, and upgrade-machine/testing hands it out. Each side runs in a real child
// process, since the hook ends its process with SIGKILL.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { cli } from "./helpers/cli.js";
import { ROOT, runCli } from "./helpers/example.js";

const root = mkdtempSync(join(tmpdir(), "um-crash-hook-"));
let dir: string;
let config: string;

/** A run through the library with step doubles (nothing outside the folder is touched); `hook` adds the testing export. */
const script = (hook: boolean) => `
import { upgrade, STEP_NAMES } from ${JSON.stringify(join(ROOT, "dist/index.js"))};
${hook ? `import { crashPointFromEnv } from ${JSON.stringify(join(ROOT, "dist/testing.js"))};` : ""}
const steps = Object.fromEntries(STEP_NAMES.map((s) => [s, { run: async () => ({ step: s }) }]));
const result = await upgrade(process.env.UM_CONFIG, { steps${hook ? ", afterAppend: crashPointFromEnv()" : ""} });
process.stdout.write(result.state);
`;

function node(
  source: string,
  env: Record<string, string>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      cwd: dir,
      env: { ...process.env, UM_CONFIG: config, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const crashAt = { UPGRADE_MACHINE_CRASH_AFTER: "step.succeeded:backup" };
const state = async () => (await cli(["status", "--config", config, "--json"], { cwd: dir })).lines[0]?.state;

beforeEach(() => {
  dir = mkdtempSync(join(root, "case-"));
  config = join(dir, "upgrade.json");
  writeFileSync(config, JSON.stringify({ name: "crash-hook", database: "sqlite:./db.sqlite" }));
  const db = new Database(join(dir, "db.sqlite"));
  db.exec("CREATE TABLE t (x INTEGER)");
  db.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("UPGRADE_MACHINE_CRASH_AFTER", () => {
  it("the library's upgrade() ignores it: the run completes in the same process", async () => {
    const r = await node(script(false), crashAt);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("completed");
    expect(await state()).toBe("completed");
  });

  it("upgrade-machine/testing's crashPointFromEnv() honours it when a program passes it as afterAppend", async () => {
    const r = await node(script(true), crashAt);
    expect(r.signal, r.stderr).toBe("SIGKILL");
    expect(r.stdout).toBe("");
    expect(await state()).toBe("running");
    const events = (await cli(["history", "--config", config, "--json"], { cwd: dir })).lines;
    expect(events.at(-1)).toMatchObject({ type: "step.succeeded", step: "backup" });
  });

  it("the CLI honours it: killed with SIGKILL right after the named event is durable", async () => {
    const r = await runCli(["run", "--config", config, "--json"], { UPGRADE_MACHINE_CRASH_AFTER: "run.requested" });
    expect(r.signal, r.stderr).toBe("SIGKILL");
    expect(await state()).toBe("running");
    const events = (await cli(["history", "--config", config, "--json"], { cwd: dir })).lines;
    expect(events.map((e) => e.type)).toEqual(["run.requested"]);
  });
});
