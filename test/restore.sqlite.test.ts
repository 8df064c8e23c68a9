import { appendFileSync, copyFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { prepareExample, runCli, type Example } from "./helpers/example.js";
import { changePresent, latestRunId, patientStart, runIds, sealOf, stateOf } from "./helpers/restore.js";

// `upgrade-machine restore --run ID` through the real CLI on the example (SQLite): the restore
// point and the previous version come back and are proven; the restore is a run of its own whose
// restore point is the present state (restoring it undoes the restore); and what is refused
// changes nothing.

let ex: Example | undefined;
afterEach(async () => {
  await ex?.cleanup();
  ex = undefined;
});

describe("restore of a completed upgrade (SQLite, port 4602)", () => {
  it("puts the database, the files and the previous version back, proven; restoring the restore run brings the present back", async () => {
    ex = await prepareExample(4602);
    patientStart(ex);
    const before = await stateOf(ex);
    expect((await runCli(["run", "--config", ex.config, "--to", "2.0.0"])).code).toBe(0);
    const upgradeRun = await latestRunId(ex.config);
    expect((await sealOf(ex.config, upgradeRun)).fingerprint.hash).toBe(before.fingerprint);
    changePresent(ex, "after-upgrade");
    const present = await stateOf(ex);
    expect(present.fingerprint).not.toBe(before.fingerprint);
    expect(present.serving).toBe("2.0.0");

    const r = await runCli(["restore", "--config", ex.config, "--run", upgradeRun]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`a restore of run ${upgradeRun}'s restore point`);
    expect(await stateOf(ex)).toEqual(before);
    expect(await ex.health()).toEqual({ status: "ok", version: "1.0.0", migrations: 1 });
    expect((await ex.ctl("version")).stdout).toBe("1.0.0");
    expect((await ex.ctl("check")).code).toBe(0);
    const restoreRun = await latestRunId(ex.config);
    const status = JSON.parse((await runCli(["status", "--config", ex.config, "--json"])).stdout);
    expect(status).toMatchObject({ runId: restoreRun, kind: "restore", restoreOf: upgradeRun, state: "completed", toVersion: "1.0.0" });
    // the restore's own restore point is the present state it replaced
    expect((await sealOf(ex.config, restoreRun)).fingerprint.hash).toBe(present.fingerprint);

    const undo = await runCli(["restore", "--config", ex.config, "--run", restoreRun]);
    expect(undo.code, undo.stderr + undo.stdout).toBe(0);
    expect(await stateOf(ex)).toEqual(present);
    expect((await runIds(ex.config)).length).toBe(3);
  }, 300_000);

  it("rolls back to the present state when the restore fails after the stop", async () => {
    ex = await prepareExample(4602);
    patientStart(ex);
    expect((await runCli(["run", "--config", ex.config, "--to", "2.0.0"])).code).toBe(0);
    const upgradeRun = await latestRunId(ex.config);
    changePresent(ex, "present");
    const present = await stateOf(ex);
    // release 1.0.0 now refuses to install: the restore fails at upgradePackage, after the stop
    const server = join(ex.dir, "releases", "1.0.0", "server.mjs");
    const saved = readFileSync(server);
    writeFileSync(join(ex.dir, "releases", "1.0.0", "VERSION"), "1.0.0-broken\n");
    const r = await runCli(["restore", "--config", ex.config, "--run", upgradeRun]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toContain("failed at upgradePackage: E_VERSION");
    expect(await stateOf(ex)).toEqual(present);
    writeFileSync(server, saved);
  }, 300_000);
});

describe("restore refuses, changing nothing (SQLite, port 4603)", () => {
  it("another target's run, an unknown run, an unfinished run, a restore point or file copy that fails its sha256", async () => {
    ex = await prepareExample(4603);
    patientStart(ex);
    const journal = join(ex.dir, ".upgrade", "journal.sqlite");
    // a second service (a bare config for another SQLite file) sharing the example's journal
    cpSync(ex.db, join(ex.dir, "data", "b.sqlite"));
    const other = join(ex.dir, "b.json");
    writeFileSync(
      other,
      JSON.stringify({
        name: "b",
        database: "sqlite:./data/b.sqlite",
        migrations: { drizzle: "./current/drizzle" },
        stateDir: "./.upgrade-b",
        journal: `sqlite:${journal}`,
      }),
    );
    const crashed = await runCli(["run", "--config", ex.config, "--to", "2.0.0"], { UPGRADE_MACHINE_CRASH_AFTER: "step.started:migrate" });
    expect(crashed.signal).toBe("SIGKILL");
    const unfinished = await latestRunId(ex.config);
    const unchanged = async () => ({
      runs: await runIds(ex!.config),
      fingerprint: await ex!.fingerprint(),
      serving: (await ex!.health())?.version ?? null,
    });
    const atCrash = await unchanged();

    const refused = await runCli(["restore", "--config", ex.config, "--run", unfinished]);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain(`E_UNFINISHED: run ${unfinished} of blog is unfinished`);
    expect(await unchanged()).toEqual(atCrash);

    expect((await runCli(["resume", "--config", ex.config])).code).toBe(0);
    expect((await runCli(["run", "--config", other])).code).toBe(0);
    const othersRun = await latestRunId(other);
    const now = await unchanged();
    expect(now.serving).toBe("2.0.0");

    const foreign = await runCli(["restore", "--config", ex.config, "--run", othersRun]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(`E_NOT_FOUND: run ${othersRun} is a run of another target (b)`);
    const unknown = await runCli(["restore", "--config", ex.config, "--run", "20990101T000000Z-abcdef"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("E_NOT_FOUND: run 20990101T000000Z-abcdef does not exist");
    expect(await unchanged()).toEqual(now);

    const seal = await sealOf(ex.config, unfinished);
    for (const path of [seal.restorePoint.path, seal.files[0].backup]) {
      copyFileSync(path, "/tmp/um-sf-saved");
      appendFileSync(path, "x");
      const tampered = await runCli(["restore", "--config", ex.config, "--run", unfinished]);
      expect(tampered.code, tampered.stderr).toBe(3);
      expect(tampered.stderr).toContain(`E_RESTORE: ${path} of run ${unfinished} fails its sha256`);
      expect(await unchanged()).toEqual(now);
      copyFileSync("/tmp/um-sf-saved", path);
    }
    // intact again: the same restore is taken
    const ok = await runCli(["restore", "--config", ex.config, "--run", unfinished]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect((await ex.health())?.version).toBe("1.0.0");
  }, 300_000);
});
