// Step outputs are typed by one map (StepOutputs) and read back through one accessor that checks
// them: outputs written by the first release of upgrade-machine are still read (fields added
// since are optional), one of another shape is refused with E_JOURNAL_MISMATCH naming the field.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { STEP_NAMES, type Json, type UpgradeContext } from "../machines/index.js";
import { history, listBackups, upgrade } from "../src/api.js";
import { resolveConfig } from "../src/config/resolve.js";
import { UpgradeError } from "../src/errors.js";
import { latestRun } from "../src/journal/latest-run.js";
import { openJournal } from "../src/journal/open.js";
import { abandonRun } from "../src/runner/abandon.js";
import { foldJournal } from "../src/runner/fold.js";
import { SimulatedCrash, startRun } from "../src/runner/runner.js";
import { defaultSteps } from "../src/steps/index.js";
import { manualInstructions } from "../src/steps/manual.js";
import { maybeOutputOf, outputOf } from "../src/steps/output-of.js";
import type { StepContext, StepDefinition, StepEffects } from "../src/steps/types.js";
import { readBuiltInOutputs } from "./helpers/built-in-outputs.js";
import { prepareExample, type Example } from "./helpers/example.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Outputs exactly as the first release (commit 1246d35) wrote them: no links, owners, databaseFile, database, nor restoreDatabase's fingerprint. */
const FIRST_RELEASE: Record<"preflight" | "backup" | "seal" | "restoreDatabase", Json> = {
  preflight: { fromVersion: "1.0.0", toVersion: "2.0.0", serviceWasRunning: null, databaseBytes: 8192, pendingMigrations: null },
  backup: {
    database: {
      path: "/s/backups/r/database-hot.sqlite",
      bytes: 8192,
      sha256: "aa",
      format: "sqlite-backup-api",
      createdAt: "2026-01-01T00:00:00.000Z",
      fingerprint: null,
    },
    files: [
      { path: "/etc/app.conf", exists: true, backup: "/s/backups/r/files/0-app.conf", sha256: "bb", mode: 420, bytes: 3 },
      { path: "/etc/absent.conf", exists: false, backup: null, sha256: null, mode: null, bytes: 0 },
    ],
  },
  seal: {
    restorePoint: {
      path: "/s/backups/r/database.sqlite",
      bytes: 8192,
      sha256: "cc",
      format: "sqlite-backup-api",
      createdAt: "2026-01-01T00:00:01.000Z",
    },
    fingerprint: { schema: "dd", tables: { t: { rows: 2, hash: "ee" } }, hash: "ff" },
    reusedHotBackup: false,
    files: [{ path: "/etc/app.conf", exists: true, backup: "/s/backups/r/files/0-app.conf", sha256: "bb", mode: 420, bytes: 3 }],
  },
  restoreDatabase: { restored: "/s/backups/r/database.sqlite", sha256: "cc" },
};

function context(outputs: UpgradeContext["outputs"], skipped: UpgradeContext["skipped"] = {}): UpgradeContext {
  return {
    runId: "r",
    target: "t",
    toVersion: "2.0.0",
    fromVersion: "1.0.0",
    outputs,
    skipped,
    attempts: {},
    failure: null,
    rollbackFailure: null,
  };
}

function stepContext(run: UpgradeContext): StepContext {
  const config = resolveConfig({ name: "outputs", database: "sqlite:./db.sqlite" }, tmpdir(), null);
  return {
    runId: "r",
    step: "restoreDatabase",
    attempt: 1,
    firstStartedAt: new Date(),
    config,
    run,
    backupDir: "/s/backups/r",
    database: () => Promise.reject(new Error("no database")),
    progress: () => undefined,
    log: () => undefined,
    redact: (s) => s,
    signal: new AbortController().signal,
  };
}

function mismatch(read: () => unknown): UpgradeError {
  try {
    read();
  } catch (err) {
    if (err instanceof UpgradeError) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("the output accessor", () => {
  it("reads the outputs the first release wrote, typed, and builds the manual instructions from them", async () => {
    const run = context(FIRST_RELEASE);
    const seal = outputOf(stepContext(run), "seal");
    expect(seal.restorePoint.path).toBe("/s/backups/r/database.sqlite");
    expect(seal.files[0]?.realPath).toBeUndefined();
    expect(maybeOutputOf(run, "backup")?.files.map((f) => f.exists)).toEqual([true, false]);
    expect(maybeOutputOf(run, "preflight")?.databaseFile).toBeUndefined();
    expect(maybeOutputOf(run, "restoreDatabase")?.fingerprint).toBeUndefined();
    const config = resolveConfig({ name: "outputs", database: "sqlite:./db.sqlite", files: ["/etc/app.conf"] }, tmpdir(), null);
    const lines = (await manualInstructions(config, run)).join("\n");
    expect(lines).toContain("cp /s/backups/r/database.sqlite");
    expect(lines).toContain("cp /s/backups/r/files/0-app.conf /etc/app.conf && chmod 0644 /etc/app.conf");
  });

  it("refuses an output of another shape with E_JOURNAL_MISMATCH naming the field, in reads and in the manual instructions", async () => {
    const badSha = context({
      ...FIRST_RELEASE,
      seal: { ...(FIRST_RELEASE.seal as object), restorePoint: { path: "/x", bytes: 1, sha256: 7, format: "f", createdAt: "t" } },
    });
    const e1 = mismatch(() => outputOf(stepContext(badSha), "seal"));
    expect(e1.code).toBe("E_JOURNAL_MISMATCH");
    expect(e1.message).toContain(
      "the journal's output of seal is not what this version of upgrade-machine reads: .restorePoint.sha256 is not a string",
    );

    const badFile = context({
      ...FIRST_RELEASE,
      backup: { database: null, files: [{ path: "/a", exists: true, backup: null, sha256: null, mode: null, bytes: 0 }, { path: "/b" }] },
    });
    expect(mismatch(() => maybeOutputOf(badFile, "backup")).message).toContain(".files[1].exists is not a boolean");

    const config = resolveConfig({ name: "outputs", database: "sqlite:./db.sqlite" }, "/srv", null);
    const lines = await manualInstructions(config, badSha);
    expect(lines[0]).toContain(".restorePoint.sha256 is not a string");
    expect(lines[1]).toContain("/srv/.upgrade/backups/r");
  });

  it("E_JOURNAL_MISMATCH when a needed output is missing; a skipped or unrun step has none to the optional read", () => {
    const run = context({ preflight: FIRST_RELEASE.preflight, announce: null }, { announce: "no announce.command or announce.webhook" });
    const e = mismatch(() => outputOf(stepContext(run), "seal"));
    expect(e.code).toBe("E_JOURNAL_MISMATCH");
    expect(e.message).toContain("step restoreDatabase needs the output of seal");
    expect(maybeOutputOf(run, "announce")).toBeUndefined();
    expect(maybeOutputOf(run, "seal")).toBeUndefined();
  });
});

describe("abandon", () => {
  it("reports an output it cannot read in the report, after journaling the abandon, instead of failing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "um-abandon-outputs-"));
    dirs.push(dir);
    const config = resolveConfig({ name: "abandoned", database: "sqlite:./db.sqlite" }, dir, null);
    const store = await openJournal(config.journal, dir);
    try {
      // Runner-level doubles: seal journals a restore point whose path is no string, then the process dies in migrate.
      const steps = {} as StepEffects;
      for (const step of STEP_NAMES) {
        steps[step] = {
          async run() {
            if (step === "migrate") throw new SimulatedCrash();
            return step === "seal" ? { restorePoint: { path: 7 } } : (FIRST_RELEASE[step as keyof typeof FIRST_RELEASE] ?? { step });
          },
        };
      }
      const options = {
        store,
        config,
        target: "t",
        steps,
        openDatabase: () => Promise.reject(new Error("no database")),
        backupRoot: join(dir, "backups"),
        leaseTtlMs: 300,
      };
      await expect(startRun(options, { toVersion: "2.0.0" })).rejects.toBeInstanceOf(SimulatedCrash);
      await new Promise((r) => setTimeout(r, 400));
      const runId = (await latestRun(store, "t"))!.runId;
      const result = await abandonRun(
        { store, target: "t", instructions: (run) => manualInstructions(config, run) },
        runId,
        "the journal was written by a custom seal",
      );
      expect(result.state).toBe("abandoned");
      const report = result.report.join("\n");
      expect(report).toContain(
        "the journal's output of seal is not what this version of upgrade-machine reads: .restorePoint.path is not a string",
      );
      expect(report).toContain("The hot backup (taken before the stop) is /s/backups/r/database-hot.sqlite.");
      expect(report).toContain(
        `Restore the database and the files by hand from the run's backup folder ${join(dir, ".upgrade", "backups", runId)}`,
      );
    } finally {
      await store.close();
    }
  });
});

describe("a run whose outputs have the first release's shape", () => {
  it("rolls back a real SQLite database and file from them, and lists their backups", async () => {
    const dir = mkdtempSync(join(tmpdir(), "um-old-outputs-"));
    dirs.push(dir);
    const dbPath = join(dir, "app.sqlite");
    const db = new Database(dbPath);
    db.exec("CREATE TABLE t (id integer primary key, v text); INSERT INTO t (v) VALUES ('a'), ('b');");
    db.close();
    writeFileSync(join(dir, "app.conf"), "old");
    writeFileSync(
      join(dir, "upgrade.json"),
      JSON.stringify({ name: "old-outputs", database: "sqlite:./app.sqlite", files: ["./app.conf"] }),
    );

    // The real steps, their outputs cut down to what the first release wrote (the types allow it: the fields added since are optional).
    const firstRelease = <T extends object>(f: T) => {
      const {
        realPath: _r,
        link: _l,
        links: _k,
        uid: _u,
        gid: _g,
        ...old
      } = f as T & { realPath?: unknown; link?: unknown; links?: unknown; uid?: unknown; gid?: unknown };
      return old;
    };
    const preflight: StepDefinition<"preflight"> = {
      run: async (ctx) => {
        const { databaseFile: _f, database: _d, ...old } = await defaultSteps.preflight.run(ctx);
        return old;
      },
    };
    const backup: StepDefinition<"backup"> = {
      run: async (ctx) => {
        const out = await defaultSteps.backup.run(ctx);
        return { database: out.database, files: out.files.map(firstRelease) };
      },
    };
    const seal: StepDefinition<"seal"> = {
      run: async (ctx) => {
        const out = await defaultSteps.seal.run(ctx);
        return { ...out, files: out.files.map(firstRelease) };
      },
    };
    const migrate: StepDefinition<"migrate"> = {
      run: async () => {
        const live = new Database(dbPath);
        live.exec("INSERT INTO t (v) VALUES ('half-migrated'); ALTER TABLE t ADD COLUMN w text");
        live.close();
        writeFileSync(join(dir, "app.conf"), "new");
        throw new UpgradeError("E_MIGRATION_FAILED", "fails half-way");
      },
    };

    const result = await upgrade(join(dir, "upgrade.json"), { steps: { preflight, backup, seal, migrate } });
    expect(result.state).toBe("rolledBack");
    expect(result.steps.filter((s) => s.outcome === "succeeded").map((s) => s.step)).toEqual([
      "preflight",
      "backup",
      "seal",
      "restoreDatabase",
      "restoreFiles",
      "verifyRestore",
    ]);

    const { events } = await history(join(dir, "upgrade.json"));
    const written = foldJournal(events).context.outputs;
    expect(Object.keys(written.preflight as object)).toEqual([
      "fromVersion",
      "toVersion",
      "serviceWasRunning",
      "databaseBytes",
      "pendingMigrations",
    ]);
    expect(Object.keys((written.seal as { files: object[] }).files[0]!).sort()).toEqual([
      "backup",
      "bytes",
      "exists",
      "mode",
      "path",
      "sha256",
    ]);

    const after = new Database(dbPath, { readonly: true });
    expect(after.prepare("SELECT v FROM t ORDER BY id").all()).toEqual([{ v: "a" }, { v: "b" }]);
    after.close();
    expect(readFileSync(join(dir, "app.conf"), "utf8")).toBe("old");

    const backups = await listBackups(join(dir, "upgrade.json"), { verify: true });
    expect(backups.length).toBe(2);
    expect(backups.every((b) => b.intact && existsSync(b.path))).toBe(true);
    expect(backups.map((b) => b.path.endsWith("app.conf"))).toEqual([false, true]);
  });
});

describe("the built-in steps' outputs on the real example (port 4471)", () => {
  let ex: Example;
  afterAll(async () => {
    await ex?.cleanup();
  });

  /** The run's outputs, folded from the journal, each read back through its declared built-in type. */
  async function outputsRead(): Promise<string[]> {
    const { events } = await history(ex.config);
    return readBuiltInOutputs(foldJournal(events).context);
  }

  it("are what BuiltInOutputs declares, for all 20 steps: a completed run, a rollback after the start, an abort", async () => {
    ex = await prepareExample(4471, ["--authors", "2", "--posts-per-author", "2", "--comments-per-post", "1"]);
    const config = JSON.parse(readFileSync(ex.config, "utf8"));
    config.service.health.timeoutSeconds = 3;
    config.announce.withdraw = { command: ["./notify.sh", "withdrawn"] };
    config.announce.graceSeconds = 1;
    writeFileSync(ex.config, JSON.stringify(config));

    const completed = await upgrade(ex.config, { toVersion: "2.0.0" });
    expect(completed.state).toBe("completed");
    expect(await outputsRead()).toEqual([
      "preflight",
      "backup",
      "lint",
      "rehearse",
      "announce",
      "grace",
      "stop",
      "seal",
      "upgradePackage",
      "migrate",
      "verify",
      "start",
      "health",
    ]);

    // 2.1.0 is 2.0.0 whose health answers 503: the run rolls back after starting it.
    cpSync(join(ex.dir, "releases", "2.0.0"), join(ex.dir, "releases", "2.1.0"), { recursive: true });
    writeFileSync(join(ex.dir, "releases", "2.1.0", "VERSION"), "2.1.0\n");
    const server = join(ex.dir, "releases", "2.1.0", "server.mjs");
    writeFileSync(server, readFileSync(server, "utf8").replace("return send(res, 200, health());", "return send(res, 503, health());"));
    const rolledBack = await upgrade(ex.config, { toVersion: "2.1.0" });
    expect(rolledBack.state).toBe("rolledBack");
    expect(rolledBack.failure?.step).toBe("health");
    expect(await outputsRead()).toEqual([
      "preflight",
      "backup",
      "lint",
      "announce",
      "grace",
      "stop",
      "seal",
      "upgradePackage",
      "migrate",
      "verify",
      "start",
      "stopNewVersion",
      "restoreDatabase",
      "restoreFiles",
      "reinstallPrevious",
      "startPrevious",
      "verifyRestore",
    ]);

    const seal: StepDefinition<"seal"> = {
      run: () => Promise.reject(new UpgradeError("E_BACKUP", "the restore point cannot be written")),
    };
    const aborted = await upgrade(ex.config, { toVersion: "2.0.0", steps: { seal } });
    expect(aborted.state).toBe("aborted");
    expect(await outputsRead()).toEqual([
      "preflight",
      "backup",
      "lint",
      "announce",
      "grace",
      "stop",
      "restartService",
      "withdrawAnnouncement",
    ]);
    expect((await ex.health())?.version).toBe("2.0.0");
  }, 120_000);
});
