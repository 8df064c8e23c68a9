import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./helpers/cli.js";
import { prepareExample, type Example } from "./helpers/example.js";

describe("the CLI, in process, on the real example", () => {
  let ex: Example;
  beforeAll(async () => {
    ex = await prepareExample(4321);
  });
  afterAll(async () => {
    await ex.cleanup();
  });

  it("status says none before any run", async () => {
    const r = await cli(["status", "--config", ex.config, "--json"]);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toEqual({ state: "none", runId: null, step: null, fromVersion: null, toVersion: null });
  });

  it("plan lists the steps and changes nothing", async () => {
    const before = await ex.fingerprint();
    const r = await cli(["plan", "--config", ex.config, "--to", "2.0.0", "--json"]);
    expect(r.code).toBe(0);
    const plan = r.lines[0];
    expect(plan.installedVersion).toBe("1.0.0");
    expect(plan.pendingMigrations).toEqual([]);
    expect(plan.steps.find((s: any) => s.step === "grace")).toEqual({ step: "grace", action: "skip", reason: "no grace period" });
    expect(plan.steps.find((s: any) => s.step === "migrate").action).toBe("run");
    expect(await ex.fingerprint()).toBe(before);
    expect((await ex.health())?.version).toBe("1.0.0");
  });

  it("run --json streams NDJSON and upgrades, from another working directory with a relative config path", async () => {
    const r = await cli(["run", "--config", join(basename(ex.dir), "upgrade.json"), "--to", "2.0.0", "--json"], { cwd: dirname(ex.dir) });
    expect(r.code, r.stdout).toBe(0);
    const finished = r.lines.filter((l) => l.type === "step.finished").map((l) => `${l.step}:${l.outcome}`);
    expect(finished).toContain("migrate:succeeded");
    expect(finished).toContain("grace:skipped");
    expect(r.lines.some((l) => l.type === "step.progress" && l.step === "backup" && l.progress.unit === "bytes")).toBe(true);
    expect(r.lines.some((l) => l.type === "step.progress" && l.step === "migrate" && l.progress.unit === "migrations")).toBe(true);
    const result = r.lines.at(-1);
    expect(result).toMatchObject({ type: "result", state: "completed", fromVersion: "1.0.0", toVersion: "2.0.0" });
    expect((await ex.health())?.version).toBe("2.0.0");
  });

  it("status --json and history --json describe the run", async () => {
    const s = (await cli(["status", "--config", ex.config, "--json"], { cwd: "/" })).lines[0];
    expect(s).toMatchObject({ state: "completed", fromVersion: "1.0.0", toVersion: "2.0.0", step: null });
    expect(typeof s.runId).toBe("string");
    const h = await cli(["history", "--config", ex.config, "--json"], { cwd: "/" });
    expect(h.code).toBe(0);
    expect(h.lines.map((e) => e.seq)).toEqual(h.lines.map((_, i) => i));
    for (const e of h.lines) {
      expect(typeof e.at).toBe("string");
      if (e.type.startsWith("step.")) expect(typeof e.step).toBe("string");
    }
    expect(h.lines.at(-1).type).toBe("run.completed");
    const text = await cli(["history", "--config", ex.config]);
    expect(text.stdout).toContain("completed");
  });

  it("a second run to the same version has nothing to migrate and completes", async () => {
    const r = await cli(["run", "--config", ex.config, "--to", "2.0.0", "--json"]);
    expect(r.code).toBe(0);
    const migrate = r.lines.find((l) => l.type === "step.finished" && l.step === "migrate");
    expect(migrate.outcome).toBe("succeeded");
  });

  it("backups --verify checks every backup's sha256 and reports a corrupted one (exit 3)", async () => {
    const ok = await cli(["backups", "--config", ex.config, "--verify", "--json"]);
    expect(ok.code).toBe(0);
    expect(ok.lines.length).toBeGreaterThan(0);
    expect(ok.lines.every((b) => b.intact === true)).toBe(true);
    const victim = ok.lines.find((b) => b.path.endsWith(".sqlite")).path as string;
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(victim, bytes);
    const bad = await cli(["backups", "--config", ex.config, "--verify", "--json"]);
    expect(bad.code).toBe(3);
    expect(bad.lines.find((b) => b.path === victim).intact).toBe(false);
  });

  it("usage errors exit 2 and say what to do", async () => {
    expect((await cli(["frobnicate", "--config", ex.config])).code).toBe(2);
    const r = await cli(["run", "--config", ex.config, "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("E_USAGE");
    expect((await cli(["status"], { cwd: "/" })).stderr).toContain("--config");
    expect((await cli(["--help"])).stdout).toContain("exit codes");
  });
});
