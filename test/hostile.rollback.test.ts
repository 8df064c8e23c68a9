// Issue 8, item 3: the rollback stops what the run started. Each case runs the real CLI on a
// fresh, running example. A rollback that restarts the service changes its pid, so these cases
// check their own effects (`unchanged: false`): the database's fingerprint equals the one before
// the run, exactly one server process runs on the example's port, and it is the previous version
// (or none, when none ran before the run).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import { hashFile } from "../src/fs/durable.js";
import { addBrokenRelease, CLI, eventKeys } from "./helpers/example.js";
import { hostileSuite, type CaseTools } from "./helpers/hostile.js";
import { addUnhealthyRelease, killServers, serverProcesses } from "./helpers/new-version.js";

const PORT = 4441;
let holderPid = 0;

function appliedMigrations(db: string): number {
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
  } finally {
    sqlite.close();
  }
}
const HEALTH_TIMEOUT_S = 3;

/** A foreground start that takes a second, then writes ctl.sh's pid file and becomes the server (so ctl.sh stop works). */
const SLOW_FOREGROUND_START = ["sh", "-c", "sleep 1; echo $$ > run/server.pid; exec node current/server.mjs"];

/** The new version's health fails fast, and the test kills any server left over when the case ends. */
function unhealthy(t: CaseTools, options: { ignoreSigterm?: boolean } = {}): string {
  const version = addUnhealthyRelease(t.ex, options);
  t.config((c) => (c.service.health.timeoutSeconds = HEALTH_TIMEOUT_S));
  killLeftoversOnCleanup(t);
  return version;
}

function killLeftoversOnCleanup(t: CaseTools, extra: () => void = () => undefined): void {
  const cleanup = t.ex.cleanup.bind(t.ex);
  t.ex.cleanup = async () => {
    extra();
    killServers(t.ex.port);
    await cleanup();
  };
}

/** Exactly one server runs, and it answers healthy as the previous version 1.0.0. */
async function expectPreviousVersionAlone(t: CaseTools): Promise<void> {
  expect(await t.ex.health()).toEqual({ status: "ok", version: "1.0.0", migrations: 1 });
  expect(serverProcesses(t.ex.port)).toHaveLength(1);
  expect((await t.ex.ctl("version")).stdout).toBe("1.0.0");
}

/** The journal stopped the new version before anything was restored. */
async function expectStoppedBeforeRestore(t: CaseTools): Promise<void> {
  const keys = await eventKeys(t.ex.config);
  const stopped = keys.indexOf("step.succeeded:stopNewVersion");
  expect(keys).toContain("step.started:stopNewVersion");
  expect(stopped).toBeGreaterThan(-1);
  expect(stopped).toBeLessThan(keys.indexOf("step.started:restoreDatabase"));
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the CLI and SIGKILLs it inside `step`'s settle window: once the step has started and the
 * process it started answers (UPGRADE_MACHINE_CRASH_AFTER=step.started:<step> would kill it
 * before the step's effect begins, not while the started process settles).
 */
async function killDuringSettle(t: CaseTools, args: string[], step: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args, "--config", t.ex.config, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let started = false;
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    started ||= out.split("\n").some((l) => l.includes(`"type":"step.started"`) && l.includes(`"step":"${step}"`));
  });
  const deadline = Date.now() + 60_000;
  while (!(started && (await answers(t.ex.port)))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the run ended (or took too long) before ${step} settled:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  await once(child, "exit");
}

hostileSuite("hostile shapes: the rollback stops what the run started", PORT, [
  {
    name: "a new version that starts but answers 503: stopped before the restore, the previous version alone serves",
    item: 3,
    arrange: (t) => void unhealthy(t),
    act: (t) => t.cli(["run", "--to", "4.0.0"]),
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    async check(t, _o, before, after) {
      await expectPreviousVersionAlone(t);
      await expectStoppedBeforeRestore(t);
      expect(after.fingerprint).toBe(before.fingerprint);
      expect(after.files[join(t.ex.dir, "blog.config.json")]).toEqual(before.files[join(t.ex.dir, "blog.config.json")]);
      expect(after.pid).not.toBeNull();
      expect(after.pid).not.toBe(before.pid); // restarted: the previous version, started again
    },
  },
  {
    name: "a start command that is a launcher outliving its settle window (it exits before its daemon answers, like a slow `systemctl start`): rolled back, not failed",
    item: 3,
    arrange(t) {
      unhealthy(t);
      // Alive at the end of the 0.2 s settle window (so recorded as the service), gone at 0.5 s;
      // the daemon is started at 1 s by a background subshell, so it answers only after the launcher exited.
      t.config((c) => {
        c.service.start = { command: ["sh", "-c", "(sleep 1; exec ./ctl.sh start) >/dev/null 2>&1 & sleep 0.5"], settleSeconds: 0.2 };
      });
    },
    act: (t) => t.cli(["run", "--to", "4.0.0"]),
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    async check(t, _o, before, after) {
      await expectPreviousVersionAlone(t);
      expect(after.fingerprint).toBe(before.fingerprint);
    },
  },
  {
    name: "a new version that ignores SIGTERM (its stop command ends it with SIGKILL and exits 1)",
    item: 3,
    arrange(t) {
      unhealthy(t, { ignoreSigterm: true });
      t.config((c) => (c.env = { ...c.env, BLOG_STOP_TIMEOUT: "2" }));
    },
    act: (t) => t.cli(["run", "--to", "4.0.0"]),
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    async check(t, o, before, after) {
      await expectPreviousVersionAlone(t);
      await expectStoppedBeforeRestore(t);
      expect(o.stdout).toMatch(/the stop failed \(E_COMMAND/);
      expect(after.fingerprint).toBe(before.fingerprint);
    },
  },
  {
    name: "a foreground new version that ignores SIGTERM and whose stop fails: its process group gets SIGTERM, then SIGKILL (down before, stays down)",
    item: 3,
    arrange(t) {
      unhealthy(t, { ignoreSigterm: true });
      t.config((c) => {
        c.service.start = { command: ["node", "current/server.mjs"], settleSeconds: 1 };
        c.service.stop = { http: { url: `http://127.0.0.1:${t.ex.port}/no-stop-endpoint` }, waitSeconds: 2 };
      });
      return t.ex.ctl("stop").then(() => undefined);
    },
    act: (t) => t.cli(["run", "--to", "4.0.0"]),
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    timeoutSeconds: 90,
    async check(t, o, before, after) {
      expect(serverProcesses(t.ex.port)).toEqual([]);
      expect(await answers(t.ex.port)).toBe(false);
      expect((await t.ex.ctl("version")).stdout).toBe("1.0.0");
      expect(after.fingerprint).toBe(before.fingerprint);
      expect(o.stdout).toMatch(/outlived the stop: SIGTERM to its process group, then SIGKILL/);
      await expectStoppedBeforeRestore(t);
    },
  },
  {
    name: "a service that was down before the run, and a new version that starts but answers 503: left down",
    item: 3,
    arrange(t) {
      unhealthy(t);
      return t.ex.ctl("stop").then(() => undefined);
    },
    act: (t) => t.cli(["run", "--to", "4.0.0"]),
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    async check(t, _o, before, after) {
      expect(serverProcesses(t.ex.port)).toEqual([]);
      expect(await answers(t.ex.port)).toBe(false);
      expect(after.pid).toBeNull();
      expect(after.version).toBe("1.0.0");
      expect(after.fingerprint).toBe(before.fingerprint);
      await expectStoppedBeforeRestore(t);
    },
  },
  {
    name: "SIGKILL of the orchestrator in start's settle window, then resume: one instance, adopted",
    item: 3,
    arrange(t) {
      t.config((c) => (c.service.start = { command: SLOW_FOREGROUND_START, settleSeconds: 8 }));
      killLeftoversOnCleanup(t);
    },
    async act(t) {
      await killDuringSettle(t, ["run", "--to", "2.0.0"], "start");
      return t.cli(["resume"]);
    },
    exit: 0,
    code: null,
    state: "completed",
    unchanged: false,
    timeoutSeconds: 90,
    async check(t, o) {
      expect(await t.ex.health()).toEqual({ status: "ok", version: "2.0.0", migrations: 2 });
      expect(serverProcesses(t.ex.port)).toHaveLength(1);
      expect(o.stdout).toMatch(/still runs: adopting it instead of starting another/);
      expect((await eventKeys(t.ex.config)).filter((k) => k === "step.started:start")).toHaveLength(2);
    },
  },
  {
    name: "SIGKILL of the orchestrator in startPrevious's settle window, then resume: the previous version alone",
    item: 3,
    arrange(t) {
      unhealthy(t);
      t.config((c) => (c.service.start = { command: SLOW_FOREGROUND_START, settleSeconds: 8 }));
    },
    async act(t) {
      await killDuringSettle(t, ["run", "--to", "4.0.0"], "startPrevious");
      return t.cli(["resume"]);
    },
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    timeoutSeconds: 90,
    async check(t, _o, before, after) {
      await expectPreviousVersionAlone(t);
      expect((await eventKeys(t.ex.config)).filter((k) => k === "step.started:startPrevious")).toHaveLength(2);
      expect(after.fingerprint).toBe(before.fingerprint);
    },
  },
  {
    name: "a crash right after step.started:stopNewVersion, then resume",
    item: 3,
    arrange: (t) => void unhealthy(t),
    async act(t) {
      const crashed = await t.cli(["run", "--to", "4.0.0"], { UPGRADE_MACHINE_CRASH_AFTER: "step.started:stopNewVersion" });
      expect(crashed.exit).toBeNull(); // killed by SIGKILL
      expect((await eventKeys(t.ex.config)).at(-1)).toBe("step.started:stopNewVersion");
      return t.cli(["resume"]);
    },
    exit: 1,
    code: "E_HEALTH",
    state: "rolledBack",
    unchanged: false,
    async check(t, _o, before, after) {
      await expectPreviousVersionAlone(t);
      expect((await eventKeys(t.ex.config)).filter((k) => k === "step.started:stopNewVersion")).toHaveLength(2);
      expect(after.fingerprint).toBe(before.fingerprint);
    },
  },
  {
    name: "a new version the stop command cannot stop (pid unknown): failed, nothing restored, the instructions say to stop it first",
    item: 3,
    arrange(t) {
      unhealthy(t, { ignoreSigterm: true });
      // The old stop command knows only the old version: the new one is out of its reach.
      const stop = join(t.ex.dir, "stop-v1-only.sh");
      writeFileSync(
        stop,
        `#!/bin/sh\ncd "$(dirname "$0")"\n[ "$(./ctl.sh version)" = 1.0.0 ] && exec ./ctl.sh stop\necho "nothing to stop for $(./ctl.sh version)"\n`,
      );
      chmodSync(stop, 0o755);
      t.config((c) => (c.service.stop = { command: ["./stop-v1-only.sh"] }));
    },
    act: (t) => t.cli(["run", "--to", "4.0.0"]),
    exit: 3,
    code: "E_TIMEOUT",
    state: "failed",
    unchanged: false,
    timeoutSeconds: 90,
    async check(t, o) {
      expect(o.last?.rollbackFailure?.step).toBe("stopNewVersion");
      const keys = await eventKeys(t.ex.config);
      expect(keys).not.toContain("step.started:restoreDatabase");
      // the database was left as the migration made it: nothing was restored under the new version
      expect(appliedMigrations(t.ex.db)).toBe(2);
      // 4.0.0 still answers 503: it is the operator's now (the case's cleanup kills it)
      expect((await fetch(`http://127.0.0.1:${t.ex.port}/health`)).status).toBe(503);
      const text = (o.last!.instructions as string[]).join("\n");
      expect(text).toMatch(/The new version may still be running: stop it first/);
      expect(text).toMatch(/must refuse connections/);
      expect(text).toMatch(/restore the database: /);
    },
  },
  {
    name: "another process holds the SQLite database open during the restore: E_BUSY, failed, the database not replaced",
    item: 3,
    arrange(t) {
      addBrokenRelease(t.ex);
      const fd = openSync(t.ex.db, "r");
      const holder = spawn("sleep", ["300"], { stdio: ["ignore", "ignore", "ignore", fd], detached: true });
      closeSync(fd);
      holder.unref();
      killLeftoversOnCleanup(t, () => holder.kill("SIGKILL"));
      holderPid = holder.pid!;
    },
    act: (t) => t.cli(["run", "--to", "3.0.0"]),
    exit: 3,
    code: "E_BUSY",
    state: "failed",
    unchanged: false,
    async check(t, o, before, after) {
      expect(o.last?.rollbackFailure).toMatchObject({ step: "restoreDatabase", error: { code: "E_BUSY", details: { pids: [holderPid] } } });
      expect(o.last?.rollbackFailure?.error.message).toContain(`${holderPid} (sleep)`);
      // not replaced: still the migrated database (2.0.0's migration applied, 3.0.0's failed), its restore point intact
      expect(after.fingerprint).not.toBe(before.fingerprint);
      expect(appliedMigrations(t.ex.db)).toBe(2);
      const [, path, sha] = /restore point is (\S+) \(sha256 ([0-9a-f]{64})\)/.exec((o.last!.instructions as string[]).join("\n"))!;
      expect((await hashFile(path!)).sha256).toBe(sha);
    },
  },
]);
