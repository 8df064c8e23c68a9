// runCommand against real child processes: a timeout or an abort ends the command's whole
// process group (SIGTERM, then SIGKILL after the grace), and the step fails at its timeout even
// when grandchildren hold the output pipes open.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { upgrade } from "../src/api.js";
import { UpgradeError } from "../src/errors.js";
import { runCommand } from "../src/process/command.js";
import { spawnDetached } from "../src/process/detached.js";
import { KILL_GRACE_MS } from "../src/process/group.js";

const ROOT = resolve(import.meta.dirname, "..");
const ORCHESTRATOR = join(ROOT, "test/fixtures/command/orchestrator.ts");

/** Alive and not a zombie: an orphan stays a zombie here (PID 1 does not reap), yet runs nothing. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

let dir: string;
let pidFile: string;
const pidsOf = () => (existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split("\n").filter(Boolean).map(Number) : []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!what()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await sleep(20);
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "um-command-"));
  pidFile = join(dir, "pids");
});
afterEach(() => {
  for (const pid of pidsOf()) {
    try {
      process.kill(pid, "SIGKILL"); // what the old code left behind must not outlive the test
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `sh -c script` and returns the rejection and how long it took. */
async function failing(
  script: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ err: UpgradeError; ms: number }> {
  const started = Date.now();
  try {
    const r = await runCommand({ argv: ["/bin/sh", "-c", script], cwd: dir, ...options });
    throw new Error(`the command ended on its own after ${Date.now() - started} ms (exit ${r.exitCode})`);
  } catch (err) {
    if (!(err instanceof UpgradeError)) throw err;
    return { err, ms: Date.now() - started };
  }
}

describe("runCommand: timeouts end the whole process group", () => {
  it("a 1 s timeout on a shell whose grandchildren hold stdout/stderr fails in about 1 s, and no process of the group is left", async () => {
    const script = `echo $$ > ${pidFile}; sleep 30 & echo $! >> ${pidFile}; sh -c 'sleep 30 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait' & sleep 30`;
    const { err, ms } = await failing(script, { timeoutMs: 1_000 });
    expect(err.code).toBe("E_TIMEOUT");
    expect(ms).toBeGreaterThanOrEqual(1_000);
    expect(ms).toBeLessThan(1_000 + KILL_GRACE_MS + 1_000);
    const pids = pidsOf();
    expect(pids).toHaveLength(4);
    expect(pids.filter(alive)).toEqual([]);
  }, 45_000);

  it("children that ignore SIGTERM get SIGKILL after the 2 s grace", async () => {
    const script = `trap '' TERM; echo $$ > ${pidFile}; sleep 30 & echo $! >> ${pidFile}; sleep 30 & echo $! >> ${pidFile}; wait`;
    const { err, ms } = await failing(script, { timeoutMs: 1_000 });
    expect(err.code).toBe("E_TIMEOUT");
    expect(err.details?.survived).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(1_000 + KILL_GRACE_MS - 100);
    expect(ms).toBeLessThan(1_000 + KILL_GRACE_MS + 1_500);
    expect(pidsOf()).toHaveLength(3);
    expect(pidsOf().filter(alive)).toEqual([]);
  }, 45_000);

  it("an abort ends the group the same way and rejects with E_COMMAND", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const { err, ms } = await failing(`echo $$ > ${pidFile}; sleep 30 & echo $! >> ${pidFile}; wait`, {
      signal: ac.signal,
      timeoutMs: 60_000,
    });
    expect(err.code).toBe("E_COMMAND");
    expect(err.message).toContain("interrupted");
    expect(ms).toBeLessThan(500 + KILL_GRACE_MS + 1_000);
    expect(pidsOf()).toHaveLength(2);
    expect(pidsOf().filter(alive)).toEqual([]);
  }, 45_000);

  it("a command that finishes keeps its output and exit code", async () => {
    const r = await runCommand({ argv: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], cwd: dir, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
  });

  it("a timeout above 7 days is refused before the command runs (Node's timer would fire after 1 ms)", async () => {
    const marker = join(dir, "ran");
    const run = async () => runCommand({ argv: ["/bin/sh", "-c", `touch ${marker}; sleep 1`], cwd: dir, timeoutMs: 3_000_000 * 1000 });
    await expect(run()).rejects.toMatchObject({ code: "E_CONFIG" });
    await sleep(100);
    expect(existsSync(marker)).toBe(false);
  });

  it("a config with timeoutSeconds 3000000 is refused by upgrade() before any command or journal", async () => {
    const marker = join(dir, "ran");
    const config = {
      name: "huge",
      database: "sqlite:./db.sqlite",
      package: { version: { command: ["/bin/sh", "-c", `touch ${marker}; echo 1.0.0`], timeoutSeconds: 3_000_000 } },
    };
    await expect(upgrade(config, { cwd: dir })).rejects.toMatchObject({
      code: "E_CONFIG",
      message: expect.stringContaining("package.version.timeoutSeconds"),
    });
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, ".upgrade"))).toBe(false);
  });
});

describe("runCommand: the orchestrator's end reaches the command's group", () => {
  async function orchestrate(script: string, signal: NodeJS.Signals, expectedPids: number) {
    const child = spawn(process.execPath, ["--import", "jiti/register", ORCHESTRATOR, "/bin/sh", "-c", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on("exit", (code, sig) => r({ code, signal: sig })),
    );
    await waitFor(() => out.includes("running") && pidsOf().length === expectedPids, 15_000);
    child.kill(signal);
    const end = await ended;
    await waitFor(() => pidsOf().filter(alive).length === 0, 3_000).catch(() => undefined);
    return { end, left: pidsOf().filter(alive) };
  }

  it("SIGTERM to the orchestrator is passed on to the command's children, then ends the orchestrator", async () => {
    const { end, left } = await orchestrate(
      `echo $$ > ${pidFile}; sleep 30 & echo $! >> ${pidFile}; sleep 30 & echo $! >> ${pidFile}; wait`,
      "SIGTERM",
      3,
    );
    expect(end.signal).toBe("SIGTERM");
    expect(left).toEqual([]);
  }, 30_000);

  it("Ctrl-C (SIGINT) reaches the command, as it did when it shared the terminal's process group", async () => {
    const { end, left } = await orchestrate(`echo $$ > ${pidFile}; exec sleep 30`, "SIGINT", 1);
    expect(end.signal).toBe("SIGINT");
    expect(left).toEqual([]);
  }, 30_000);
});

describe("spawnDetached", () => {
  it("leaves the service it started running after the orchestrator ends (not tracked as a command)", async () => {
    const log = join(dir, "service.log");
    const r = await spawnDetached({
      argv: ["/bin/sh", "-c", `echo $$ > ${pidFile}; exec sleep 30`],
      cwd: dir,
      logFile: log,
      settleMs: 300,
    });
    expect(r.exited).toBe(false);
    await waitFor(() => pidsOf().length === 1);
    expect(alive(r.pid)).toBe(true);
    expect(process.listenerCount("SIGTERM")).toBe(0);
  });
});
