import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STEP_NAMES } from "../machines/index.js";
import { main } from "../src/cli/main.js";
import { loadConfig } from "../src/config/load.js";
import { UpgradeError } from "../src/errors.js";
import { openJournal } from "../src/journal/open.js";
import { startRun } from "../src/runner/runner.js";
import type { StepEffects } from "../src/steps/types.js";
import { targetId } from "../src/url.js";
import { JournalFeed } from "../src/view/journal-feed.js";

const dir = mkdtempSync(join(tmpdir(), "um-history-"));
const configPath = join(dir, "upgrade.json");
const journalPath = join(dir, ".upgrade", "journal.sqlite");
const runIds: string[] = [];

/** Runs the CLI in process; returns its exit code and what it wrote. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {}, cwd: dir };
  const code = await main(["history", "--config", configPath, ...argv], io);
  return { code, stdout: out.join(""), stderr: err.join("") };
}

beforeAll(async () => {
  writeFileSync(configPath, JSON.stringify({ name: "journaled", database: "sqlite:./db.sqlite" }));
  const config = await loadConfig(configPath, dir);
  const store = await openJournal(config.journal, dir);
  try {
    // Two runs with step doubles: one completes, one fails in migrate and rolls back.
    for (const failAt of [null, "migrate"]) {
      const steps = {} as StepEffects;
      for (const step of STEP_NAMES) {
        steps[step] = {
          async run() {
            if (step === failAt) throw new UpgradeError("E_MIGRATION_FAILED", "0001_posts: NOT NULL constraint failed");
            return { step };
          },
        };
      }
      const options = {
        store,
        config,
        target: targetId(config.target),
        steps,
        openDatabase: () => Promise.reject(new Error("no database")),
        backupRoot: join(dir, "backups"),
      };
      runIds.push((await startRun(options, { toVersion: "2.0.0" })).runId);
    }
  } finally {
    await store.close();
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("upgrade-machine history", () => {
  it("lists the runs as a table: started, state, step, versions, duration, error", async () => {
    const { code, stdout } = await cli();
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split("\n");
    expect(header).toMatch(/^RUN\s+STARTED \(UTC\)\s+STATE\s+AT STEP\s+VERSIONS\s+DURATION\s+ERROR$/);
    expect(rows).toHaveLength(2);
    const rolledBack = rows.find((r) => r.startsWith(runIds[1]!))!;
    expect(rolledBack).toMatch(/\brolledBack\s+verifyRestore\s+\? -> 2\.0\.0\s+\d+ ms\s+migrate: E_MIGRATION_FAILED: 0001_posts/);
    expect(rows.find((r) => r.startsWith(runIds[0]!))).toMatch(/\bcompleted\b/);
  });

  it("prints one run's events as a table: time, event, step, duration, result, error", async () => {
    const { code, stdout } = await cli("--run", runIds[1]!);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^run ${runIds[1]}: rolledBack .*hash chain verified$`));
    expect(lines[1]).toMatch(/^SEQ\s+TIME \(UTC\)\s+EVENT\s+STEP\s+DURATION\s+RESULT\s+ERROR$/);
    const failed = lines.find((l) => /step\.failed/.test(l))!;
    expect(failed).toMatch(
      /^\s*\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\s+step\.failed\s+migrate\s+\d+ ms\s+failed\s+E_MIGRATION_FAILED: 0001_posts/,
    );
    expect(lines.find((l) => /step\.succeeded\s+preflight/.test(l))).toMatch(/\d+ ms\s+succeeded$/);
    expect(lines.at(-1)).toMatch(/run\.rolledBack\s+\d+ ms\s+rolledBack$/);
  });

  describe("with a tampered journal row", () => {
    beforeAll(() => {
      // An operator "fixes" the journal by hand: the payload of one event changes, its hash does not.
      const db = new Database(journalPath);
      const row = db
        .prepare("UPDATE upgrade_machine_events SET payload = ? WHERE run_id = ? AND seq = 4")
        .run(JSON.stringify({ output: { step: "backup", edited: true } }), runIds[1]);
      db.close();
      expect(row.changes).toBe(1);
    });

    it("history --run exits non-zero with E_JOURNAL_TAMPERED naming the event", async () => {
      const { code, stdout, stderr } = await cli("--run", runIds[1]!);
      expect(code).toBe(3);
      expect(stdout).toBe("");
      expect(stderr).toMatch(
        new RegExp(`E_JOURNAL_TAMPERED: journal of run ${runIds[1]}: event 4 \\(step.succeeded\\) does not match its hash`),
      );
    });

    it("history (the list) still shows every run, marks the tampered one, and exits non-zero", async () => {
      const { code, stdout, stderr } = await cli();
      expect(code).toBe(3);
      expect(stdout.split("\n").find((l) => l.startsWith(runIds[1]!))).toMatch(/UNTRUSTED .*E_JOURNAL_TAMPERED/);
      expect(stdout.split("\n").find((l) => l.startsWith(runIds[0]!))).toMatch(/\bcompleted\b/);
      expect(stderr).toContain("E_JOURNAL_TAMPERED");
    });

    it("history --json exits non-zero with the error as a JSON line", async () => {
      const { code, stdout } = await cli("--run", runIds[1]!, "--json");
      expect(code).toBe(3);
      expect(JSON.parse(stdout.trim())).toMatchObject({ type: "error", code: "E_JOURNAL_TAMPERED" });
    });

    it("the live view reports the broken chain instead of a state", async () => {
      const store = await openJournal(`sqlite:${journalPath}`, dir);
      try {
        const config = await loadConfig(configPath, dir);
        const detail = await new JournalFeed(store, targetId(config.target)).run(runIds[1]!);
        expect(detail?.run.problem?.code).toBe("E_JOURNAL_TAMPERED");
        expect(detail?.run.value).toBeNull();
        expect(detail?.rows.length).toBeGreaterThan(4);
      } finally {
        await store.close();
      }
    });
  });
});
