import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLI, eventKeys, runCli } from "./helpers/example.js";
import { prepareTarget, type Dialect } from "./helpers/rehearsal.js";
import { serverAvailable } from "./helpers/servers.js";

// SIGKILL in the middle of the rehearsal, while its scratch copy exists (a file beside the
// backups on SQLite, a database on the server), then resume: the resumed rehearsal drops what the
// killed one left, the run completes, and no scratch copy is left. The migration holds a ~2 s
// statement so the copy is there long enough to be seen. (Every journal boundary of a run with a
// rehearsal: test/crash.forward.test.ts, on the example.)

const dialects: { dialect: Dialect; available: boolean }[] = [
  { dialect: "sqlite", available: true },
  { dialect: "postgres", available: await serverAvailable("postgres") },
  { dialect: "mysql", available: await serverAvailable("mysql") },
];

describe("SIGKILL during the rehearsal, then resume", () => {
  for (const { dialect, available } of dialects) {
    it.skipIf(!available)(`${dialect}: the left-over scratch copy is dropped, the run completes, nothing is left`, async () => {
      const t = await prepareTarget(dialect, { nullName: false, slow: true });
      try {
        const before = await t.fingerprint();
        const child = spawn(process.execPath, [CLI, "run", "--config", t.config, "--to", "2.0.0"], { stdio: "ignore" });
        const exited = new Promise<NodeJS.Signals | null>((r) => child.on("close", (_code, signal) => r(signal)));
        let left: string[] = [];
        for (let i = 0; i < 600 && left.length === 0 && child.exitCode === null; i++) {
          left = await t.scratchLeft();
          if (left.length === 0) await new Promise((r) => setTimeout(r, 25));
        }
        expect(left.length, "the scratch copy was never seen").toBeGreaterThan(0);
        child.kill("SIGKILL");
        expect(await exited).toBe("SIGKILL");
        expect((await eventKeys(t.config)).at(-1)).toBe("step.started:rehearse");
        expect((await t.scratchLeft()).length, "the killed rehearsal left its copy").toBeGreaterThan(0);
        expect(await t.fingerprint()).toBe(before);

        const resumed = await runCli(["resume", "--config", t.config, "--json"]);
        expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
        const keys = await eventKeys(t.config);
        expect(keys.filter((k) => k === "step.started:rehearse")).toHaveLength(2);
        expect(keys.at(-1)).toBe("run.completed");
        expect(await t.scratchLeft()).toEqual([]);
        expect(await t.fingerprint()).not.toBe(before);
      } finally {
        await t.cleanup();
      }
    });
  }
});
