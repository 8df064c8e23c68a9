import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addBrokenRelease, prepareExample, runCli, type Example } from "./helpers/example.js";
import { bytesUnder, latestRunId, patientStart, prune, stateOf } from "./helpers/restore.js";

// `upgrade-machine backups prune` through the real CLI on the example (SQLite): it never deletes an
// unfinished run's backups, the restore point an unfinished restore needs, nor the newest completed
// run's; it frees what it says; it journals what it deleted (`backups` lists it as pruned, a restore
// of it is refused); bad input changes nothing.

let ex: Example | undefined;
afterEach(async () => {
  await ex?.cleanup();
  ex = undefined;
});

const backupsDir = (e: Example, run: string) => join(e.dir, ".upgrade", "backups", run);

async function backupsJson(
  config: string,
): Promise<{ runId: string; path: string; prunedAt: string | null; bytes: number; ageSeconds: number | null }[]> {
  const r = await runCli(["backups", "--config", config, "--json", "--verify"]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe("backups prune (SQLite, port 4605)", () => {
  it("keeps the unfinished run's, its restore source's and the newest completed run's; frees what it says; journals it", async () => {
    ex = await prepareExample(4605);
    patientStart(ex);
    addBrokenRelease(ex);
    const before = await stateOf(ex);
    expect((await runCli(["run", "--config", ex.config, "--to", "2.0.0"])).code).toBe(0);
    const r1 = await latestRunId(ex.config); // completed upgrade
    expect((await runCli(["restore", "--config", ex.config, "--run", r1])).code).toBe(0);
    const r2 = await latestRunId(ex.config); // completed restore: the newest completed run
    expect((await runCli(["run", "--config", ex.config, "--to", "3.0.0"])).code).toBe(1);
    const r3 = await latestRunId(ex.config); // rolled back
    const crashed = await runCli(["restore", "--config", ex.config, "--run", r1], { UPGRADE_MACHINE_CRASH_AFTER: "step.succeeded:seal" });
    expect(crashed.signal).toBe("SIGKILL");
    const r4 = await latestRunId(ex.config); // unfinished restore of r1
    const all = [r1, r2, r3, r4];
    const sizes = Object.fromEntries(all.map((r) => [r, bytesUnder(backupsDir(ex!, r))]));
    for (const r of all) expect(sizes[r], r).toBeGreaterThan(0);

    // bad input: refused, nothing deleted
    for (const flags of [
      ["--keep", "0"],
      ["--keep", "two"],
      ["--keep", "1", "--older-than", "30x"],
      ["--keep", "1", "--older-than", "-1d"],
    ]) {
      const bad = await prune(ex.config, ...flags);
      expect(bad.code, flags.join(" ")).toBe(2);
      expect(bad.stderr).toContain("E_USAGE");
    }
    expect((await runCli(["backups", "prune", "--config", ex.config])).code).toBe(2); // --keep is required
    // nothing is older than 30 days
    const young = await prune(ex.config, "--keep", "1", "--older-than", "30d");
    expect(young).toMatchObject({ code: 0, pruned: {}, freed: 0 });
    for (const r of all) expect(bytesUnder(backupsDir(ex, r))).toBe(sizes[r]);

    const first = await prune(ex.config, "--keep", "1");
    expect(first.code, first.stderr).toBe(0);
    expect(first.pruned).toEqual({ [r3]: sizes[r3] });
    expect(first.freed).toBe(sizes[r3]);
    expect(first.kept).toEqual({
      [r4]: "unfinished",
      [r2]: "the newest completed run",
      [r1]: `the restore point of unfinished restore run ${r4}`,
    });
    expect(existsSync(backupsDir(ex, r3))).toBe(false);
    for (const r of [r1, r2, r4]) expect(bytesUnder(backupsDir(ex, r))).toBe(sizes[r]);
    const listed = await backupsJson(ex.config);
    expect(new Set(listed.filter((b) => b.prunedAt).map((b) => b.runId))).toEqual(new Set([r3]));
    expect(listed.every((b) => typeof b.bytes === "number" && typeof b.ageSeconds === "number")).toBe(true);
    const gone = await runCli(["restore", "--config", ex.config, "--run", r3]);
    expect(gone.code).toBe(4); // r4 is unfinished: that refusal comes first

    const resumed = await runCli(["resume", "--config", ex.config]);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(await stateOf(ex)).toEqual(before);
    const second = await prune(ex.config, "--keep", "1");
    expect(second.pruned).toEqual({ [r1]: sizes[r1], [r2]: sizes[r2] });
    expect(second.freed).toBe(sizes[r1]! + sizes[r2]!);
    expect(second.kept).toEqual({ [r4]: "the newest completed run" });
    expect(bytesUnder(backupsDir(ex, r4))).toBe(sizes[r4]);
    const pruned = await runCli(["restore", "--config", ex.config, "--run", r1]);
    expect(pruned.code).toBe(2);
    expect(pruned.stderr).toContain(`E_NOT_FOUND: the restore point of run ${r1} was pruned`);
    // the kept restore point still restores
    expect((await runCli(["restore", "--config", ex.config, "--run", r4])).code).toBe(0);
  }, 600_000);
});
