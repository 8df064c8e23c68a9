import { describe, expect, it } from "vitest";
import { eventKeys, runCli } from "./helpers/example.js";
import { prepareTarget, watchPid, type Dialect, type Target } from "./helpers/rehearsal.js";
import { serverAvailable } from "./helpers/servers.js";

// The rehearsal on every dialect: 2.0.0 makes authors.name NOT NULL and one author has none.
// The run must end aborted before anyone is told: the service never stops, the database is as it
// was, no scratch copy is left. Ports 4620-4629.

const dialects: { dialect: Dialect; port: number; available: boolean }[] = [
  { dialect: "sqlite", port: 4620, available: true },
  { dialect: "postgres", port: 4621, available: await serverAvailable("postgres") },
  { dialect: "mysql", port: 4622, available: await serverAvailable("mysql") },
];

describe("a migration that fails on the data is found by the rehearsal, before the announcement", () => {
  for (const { dialect, port, available } of dialects) {
    it.skipIf(!available)(`${dialect}: aborted, exit 1, the service's pid unchanged, the database identical, no scratch left`, async () => {
      // the lint would refuse this run first (E_LINT_WILL_FAIL, from its counts): off here, so the rehearsal is what is proven
      const t = await prepareTarget(dialect, { nullName: true, port, config: { lint: false } });
      try {
        const before = await t.fingerprint();
        expect(await t.servicePid()).toBe(t.service!.pid);
        const watch = watchPid(t);
        const r = await runCli(["run", "--config", t.config, "--to", "2.0.0", "--json"]);
        const pids = await watch.stop();
        expect(r.code, r.stderr + r.stdout).toBe(1);
        expect(pids.length).toBeGreaterThan(0);
        expect(new Set(pids)).toEqual(new Set([t.service!.pid]));
        const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
        expect(result.state).toBe("aborted");
        expect(result.failure.step).toBe("rehearse");
        expect(result.failure.error.code).toBe("E_REHEARSAL");
        expect(result.failure.error.message).toContain("0001_name_not_null");
        expect(result.failure.error.message).toMatch(
          dialect === "sqlite" ? /statement: INSERT INTO `__new_authors`/ : /statement: ALTER TABLE/,
        );
        expect(result.failure.error.message).toMatch(/NOT NULL|null value|Invalid use of NULL|Data truncated/i);
        expect(result.downtime.seconds).toBe(0);
        const keys = await eventKeys(t.config);
        expect(keys.filter((k) => /:(announce|grace|stop|seal|migrate)$/.test(k))).toEqual([]);
        expect(keys.at(-1)).toBe("run.aborted");
        expect(await t.fingerprint()).toBe(before);
        expect(await t.scratchLeft()).toEqual([]);
      } finally {
        await t.cleanup();
      }
    });
  }
});

describe("a rehearsal that passes, then the run", () => {
  it("rehearses on a copy, journals its time, then completes; plan takes that time as its estimate", async () => {
    const t: Target = await prepareTarget("sqlite", { nullName: false, port: 4623 });
    try {
      const r = await runCli(["run", "--config", t.config, "--to", "2.0.0", "--json"]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const keys = await eventKeys(t.config);
      expect(keys.indexOf("step.succeeded:rehearse")).toBeGreaterThan(-1);
      expect(keys.indexOf("step.succeeded:rehearse")).toBeLessThan(keys.indexOf("step.started:announce"));
      const h = await runCli(["history", "--config", t.config, "--json"]);
      const rehearsed = h.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.type === "step.succeeded" && e.step === "rehearse");
      expect(rehearsed.payload.output).toMatchObject({ applied: ["0001_name_not_null"], copy: "file copy of the hot backup" });
      expect(rehearsed.payload.output.copyBytes).toBeGreaterThan(0);
      expect(await t.scratchLeft()).toEqual([]);
      const plan = JSON.parse((await runCli(["plan", "--config", t.config, "--to", "2.0.0", "--json"])).stdout);
      expect(plan.downtimeEstimate).toEqual({
        migrationSeconds: rehearsed.payload.output.seconds,
        source: `run ${rehearsed.runId}`,
        toVersion: "2.0.0",
        applied: ["0001_name_not_null"],
      });
    } finally {
      await t.cleanup();
    }
  });

  it('"rehearse": false journals the step as skipped with the reason, and the run goes on', async () => {
    const t = await prepareTarget("sqlite", { nullName: false, config: { rehearse: false } });
    try {
      const r = await runCli(["run", "--config", t.config, "--to", "2.0.0", "--json"]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const finished = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.type === "step.finished" && e.step === "rehearse");
      expect(finished).toMatchObject({ outcome: "skipped", skipped: 'not rehearsed: turned off in the config ("rehearse": false)' });
    } finally {
      await t.cleanup();
    }
  });
});

describe("plan --rehearse --json", () => {
  for (const { dialect, available } of dialects) {
    it.skipIf(!available)(
      `${dialect}: the rehearsal's result, the estimate, the backup size and the free space; nothing left, nothing changed`,
      async () => {
        const t = await prepareTarget(dialect, { nullName: dialect !== "sqlite" });
        try {
          const before = await t.fingerprint();
          const r = await runCli(["plan", "--config", t.config, "--to", "2.0.0", "--rehearse", "--json"]);
          expect(r.code, r.stderr).toBe(0);
          const plan = JSON.parse(r.stdout);
          expect(plan.pendingMigrations).toEqual(["0001_name_not_null"]);
          expect(plan.backupBytes).toBeGreaterThan(0);
          expect(plan.freeBytes).toBeGreaterThan(1_000_000);
          if (dialect === "sqlite") {
            expect(plan.rehearsal).toMatchObject({
              outcome: "passed",
              applied: ["0001_name_not_null"],
              copy: "file copy of the hot backup",
            });
            expect(plan.rehearsal.copyBytes).toBe(plan.backupBytes);
            expect(plan.downtimeEstimate).toMatchObject({ source: "rehearsal now", migrationSeconds: plan.rehearsal.seconds });
          } else {
            expect(plan.rehearsal.outcome).toBe("failed");
            expect(plan.rehearsal.error.code).toBe("E_REHEARSAL");
            expect(plan.rehearsal.error.message).toContain("0001_name_not_null");
            expect(plan.downtimeEstimate).toBeNull();
          }
          expect(await t.fingerprint()).toBe(before);
          expect(await t.scratchLeft()).toEqual([]);
        } finally {
          await t.cleanup();
        }
      },
    );
  }
});
