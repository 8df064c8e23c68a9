// Hostile shapes of real deployments for the core: a journal shared by two services, a second
// orchestrator through another config, spelling or journal, a lease that expires under a long
// synchronous migration, damaged journals, and `abandon`. Each through the real CLI.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import { eventHash } from "../src/journal/hash.js";
import { addBrokenRelease, runCli, type Example } from "./helpers/example.js";
import { cliOutcome, hostileSuite, type CaseTools, type Outcome } from "./helpers/hostile.js";

const journalOf = (ex: Example) => join(ex.dir, ".upgrade", "journal.sqlite");

/** Runs the example's upgrade to `to`, killed with SIGKILL right after `crashAfter`; returns the run id. */
async function crashedRun(ex: Example, crashAfter: string, to = "2.0.0"): Promise<string> {
  const r = await runCli(["run", "--config", ex.config, "--to", to], { UPGRADE_MACHINE_CRASH_AFTER: crashAfter });
  expect(r.signal, r.stderr).toBe("SIGKILL");
  const s = await cliOutcome(["status", "--config", ex.config, "--json"]);
  expect(s.last?.state).toBe("running");
  return s.last!.runId as string;
}

/** A second, bare config (no service, no package) for another SQLite file, sharing the example's journal. */
function otherService(ex: Example): string {
  cpSync(ex.db, join(ex.dir, "data", "b.sqlite"));
  const file = join(ex.dir, "b.json");
  writeFileSync(
    file,
    JSON.stringify({
      name: "b",
      database: "sqlite:./data/b.sqlite",
      migrations: { drizzle: "./current/drizzle" },
      stateDir: "./.upgrade-b",
      journal: `sqlite:${journalOf(ex)}`,
    }),
  );
  return file;
}

/** A copy of the example's config with its own state directory (and so its own journal), optionally another database spelling. */
function secondConfig(ex: Example, name: string, patch: (c: any) => void = () => undefined): string {
  const c = JSON.parse(readFileSync(ex.config, "utf8"));
  c.stateDir = `./.upgrade-${name}`;
  patch(c);
  const file = join(ex.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

/** Starts the example's upgrade in the background with a grace period, and waits until it is in it. */
async function slowRun(t: CaseTools, graceSeconds = 8): Promise<{ done: Promise<Outcome> }> {
  t.config((c) => (c.announce.graceSeconds = graceSeconds));
  const done = cliOutcome(["run", "--config", t.ex.config, "--to", "2.0.0", "--json"]);
  for (let i = 0; i < 100; i++) {
    const s = await cliOutcome(["status", "--config", t.ex.config, "--json"]);
    if (s.last?.step === "grace") return { done };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the slow run never reached its grace period");
}

/** The run ids recorded in a journal file (none when it does not exist). */
function runsIn(journal: string): string[] {
  if (!existsSync(journal)) return [];
  const db = new Database(journal, { readonly: true });
  try {
    return (db.prepare("SELECT run_id FROM upgrade_machine_runs").all() as { run_id: string }[]).map((r) => r.run_id);
  } finally {
    db.close();
  }
}

/**
 * How many rows a recursive CTE must count for a synchronous SQLite statement of about `ms` on
 * this machine now (measured, so the statement outlives the 30 s lease however fast the machine).
 */
function rowsFor(ms: number): number {
  const db = new Database(":memory:");
  try {
    const sample = 3_000_000;
    const started = performance.now();
    db.prepare(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${sample}) SELECT count(*) FROM c`).get();
    return Math.ceil((sample * ms) / Math.max(1, performance.now() - started));
  } finally {
    db.close();
  }
}

/** Runs SQL on the example's journal (the damage a hostile case does). */
function onJournal<T>(ex: Example, fn: (db: Database.Database) => T): T {
  const db = new Database(journalOf(ex));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

let runA = "";
let bConfig = "";

hostileSuite("hostile shapes: shared journals, second orchestrators, leases, damaged journals, abandon", 4451, [
  // 1. A run belongs to its target.
  ...(["resume", "status", "history"] as const).map((command) => ({
    name: `\`${command} --run\` through another service's config on a shared journal, naming a crashed run of the first`,
    item: 1,
    async arrange(t: CaseTools) {
      runA = await crashedRun(t.ex, "step.started:migrate");
      bConfig = otherService(t.ex);
      return [join(t.ex.dir, "data", "b.sqlite")];
    },
    act: () => cliOutcome([command, "--config", bConfig, "--run", runA, "--json"]),
    exit: 2,
    code: "E_NOT_FOUND",
    async check(t: CaseTools) {
      // the first service's run is still there to finish, and it finishes
      const r = await cliOutcome(["resume", "--config", t.ex.config, "--json"]);
      expect(r.exit, r.stderr).toBe(0);
      expect(r.last).toMatchObject({ runId: runA, state: "completed" });
    },
  })),
  {
    name: "`abandon --run` through another service's config on a shared journal",
    item: 1,
    async arrange(t) {
      runA = await crashedRun(t.ex, "step.started:migrate");
      bConfig = otherService(t.ex);
      return [join(t.ex.dir, "data", "b.sqlite")];
    },
    act: () => cliOutcome(["abandon", "--config", bConfig, "--run", runA, "--reason", "not mine", "--json"]),
    exit: 2,
    code: "E_NOT_FOUND",
  },
  {
    name: "`resume` (no --run) through another service's config on a shared journal, while the first has a crashed run",
    item: 1,
    async arrange(t) {
      runA = await crashedRun(t.ex, "step.started:migrate");
      bConfig = otherService(t.ex);
      return [join(t.ex.dir, "data", "b.sqlite")];
    },
    act: () => cliOutcome(["resume", "--config", bConfig, "--json"]),
    exit: 2,
    code: "E_NOT_FOUND",
  },
  {
    name: "`resume --run` of a run id that does not exist",
    item: 1,
    act: (t) => t.cli(["resume", "--run", "20260101T000000Z-abcdef"]),
    exit: 2,
    code: "E_NOT_FOUND",
  },
  // 5. One driver per target, whatever config, spelling or journal.
  ...[
    { how: "another config with its own state directory and journal", patch: () => undefined },
    {
      how: "a config naming the database through a symlink",
      patch: (c: any, ex: Example) => (symlinkSync(ex.db, join(ex.dir, "db-link.sqlite")), (c.database = "sqlite:./db-link.sqlite")),
    },
    {
      how: "a config naming the database through a symlinked folder",
      patch: (c: any, ex: Example) => (
        symlinkSync(join(ex.dir, "data"), join(ex.dir, "data-link")), (c.database = "sqlite:./data-link/blog.sqlite")
      ),
    },
    {
      how: "a config naming the database by a path with `..` in it",
      patch: (c: any) => (c.database = "sqlite:./releases/../data/blog.sqlite"),
    },
  ].map(({ how, patch }) => ({
    name: `a second orchestrator through ${how}, while a run is in its grace period`,
    item: 5,
    unchanged: false,
    timeoutSeconds: 90,
    act: async (t: CaseTools) => {
      const { done: first } = await slowRun(t);
      const second = secondConfig(t.ex, "second", (c) => patch(c, t.ex));
      const o = await cliOutcome(["run", "--config", second, "--to", "2.0.0", "--json"]);
      const done = await first;
      expect(done.last?.state, done.stderr).toBe("completed");
      expect(runsIn(join(t.ex.dir, ".upgrade-second", "journal.sqlite")), JSON.stringify(o)).toEqual([]);
      return o;
    },
    exit: 4,
    code: "E_BUSY",
    async check(t: CaseTools) {
      expect(await t.ex.health()).toMatchObject({ version: "2.0.0" });
      expect(runsIn(journalOf(t.ex)).length).toBe(1);
    },
  })),
  // 6. Leases that cannot be stolen: a 50 s synchronous migration outlives the 30 s lease.
  {
    name: "a second `resume` 31 s into a synchronous migration that blocks the first process's lease renewals",
    item: 6,
    unchanged: false,
    timeoutSeconds: 240,
    async arrange(t) {
      const rel = join(t.ex.dir, "releases", "2.0.0", "drizzle");
      const j = JSON.parse(readFileSync(join(rel, "meta", "_journal.json"), "utf8"));
      const last = j.entries[j.entries.length - 1];
      j.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: "0099_slow" });
      writeFileSync(join(rel, "meta", "_journal.json"), JSON.stringify(j));
      writeFileSync(
        join(rel, "0099_slow.sql"),
        `CREATE TABLE \`slow\` AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rowsFor(55_000)}) SELECT count(*) AS n FROM c;\n`,
      );
    },
    async act(t) {
      const first = cliOutcome(["run", "--config", t.ex.config, "--to", "2.0.0", "--json"]);
      let startedAt = 0;
      for (let i = 0; i < 600 && !startedAt; i++) {
        const s = await cliOutcome(["status", "--config", t.ex.config, "--json"]);
        if (s.last?.step === "migrate") startedAt = Date.now();
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(startedAt).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 31_000 - (Date.now() - startedAt)));
      const during = await cliOutcome(["status", "--config", t.ex.config, "--json"]);
      expect(during.last?.step).toBe("migrate"); // still inside the migration: the lease has expired
      const second = await cliOutcome(["resume", "--config", t.ex.config, "--json"]);
      const done = await first;
      expect(done.last?.state, done.stderr).toBe("completed");
      return second;
    },
    exit: 4,
    code: "E_BUSY",
    async check(t) {
      const events = runsIn(journalOf(t.ex));
      expect(events.length).toBe(1);
      const keys = (await cliOutcome(["history", "--config", t.ex.config, "--json"])).stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .map((e) => `${e.type}:${e.step ?? ""}`);
      expect(keys.filter((k) => k === "step.started:migrate").length).toBe(1); // the second process ran nothing
    },
  },
  // 12. Journal trust.
  {
    name: "a journal file that is not a database",
    item: 12,
    arrange: (t) => {
      mkdirSync(join(t.ex.dir, ".upgrade"), { recursive: true });
      writeFileSync(journalOf(t.ex), "this is not a journal\n".repeat(100));
    },
    act: (t) => cliOutcome(["status", "--config", t.ex.config]),
    exit: 3,
    code: "E_JOURNAL",
    check: (_t, o) => {
      expect(o.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(o.stderr).toMatch(/next:/);
    },
  },
  {
    name: "`run` with a journal file that is not a database",
    item: 12,
    arrange: (t) => {
      mkdirSync(join(t.ex.dir, ".upgrade"), { recursive: true });
      writeFileSync(journalOf(t.ex), Buffer.alloc(8192, 0xab));
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 3,
    code: "E_JOURNAL",
  },
  ...(["resume", "run"] as const).map((command) => ({
    name: `\`${command}\` after the last events of a rolled-back run were deleted (it looks unfinished at restoreDatabase)`,
    item: 12,
    async arrange(t: CaseTools) {
      addBrokenRelease(t.ex);
      const r = await t.cli(["run", "--to", "3.0.0"]);
      expect(r.last?.state).toBe("rolledBack");
      onJournal(t.ex, (db) => {
        const { n } = db.prepare("SELECT max(seq) AS n FROM upgrade_machine_events").get() as { n: number };
        const cut = (
          db.prepare("SELECT seq FROM upgrade_machine_events WHERE type = 'step.started' AND step = 'restoreDatabase'").get() as {
            seq: number;
          }
        ).seq;
        expect(n).toBeGreaterThan(cut);
        db.prepare("DELETE FROM upgrade_machine_events WHERE seq > ?").run(cut);
      });
      expect((await t.cli(["status"])).exit).toBe(3);
    },
    act: (t: CaseTools) => t.cli([command, ...(command === "run" ? ["--to", "2.0.0"] : [])]),
    exit: 3,
    code: "E_JOURNAL_TAMPERED",
  })),
  {
    name: "`resume` of a run whose journal ends with an event type of a newer upgrade-machine (hash chain and head intact)",
    item: 12,
    async arrange(t) {
      await crashedRun(t.ex, "step.started:migrate");
      onJournal(t.ex, (db) => {
        const last = db.prepare("SELECT * FROM upgrade_machine_events ORDER BY seq DESC LIMIT 1").get() as {
          run_id: string;
          seq: number;
          hash: string;
        };
        const body = {
          runId: last.run_id,
          seq: last.seq + 1,
          type: "run.paused" as never,
          step: null,
          payload: { by: "v9" },
          at: new Date().toISOString(),
        };
        const hash = eventHash(last.hash, body);
        db.prepare("INSERT INTO upgrade_machine_events (run_id, seq, type, step, payload, at, hash) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
          body.runId,
          body.seq,
          body.type,
          null,
          JSON.stringify(body.payload),
          body.at,
          hash,
        );
        db.prepare("UPDATE upgrade_machine_runs SET last_seq = ?, last_hash = ? WHERE run_id = ?").run(body.seq, hash, body.runId);
      });
    },
    act: (t) => t.cli(["resume"]),
    exit: 3,
    code: "E_JOURNAL_MISMATCH",
  },
  {
    name: "`resume` of a rollback whose restore point file was deleted",
    item: 12,
    unchanged: false,
    async arrange(t) {
      addBrokenRelease(t.ex);
      await crashedRun(t.ex, "step.failed:migrate", "3.0.0");
      const h = await cliOutcome(["history", "--config", t.ex.config, "--json"]);
      const seal = h.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.type === "step.succeeded" && e.step === "seal");
      rmSync(seal.payload.output.restorePoint.path);
    },
    act: (t) => t.cli(["resume"]),
    exit: 3,
    code: "E_RESTORE",
    state: "failed",
    async check(_t, o, before, after) {
      expect(after.fingerprint).toBe(before.fingerprint); // the database was not touched
      expect(o.last?.instructions.join("\n")).toMatch(/restore point/i);
    },
  },
  // abandon
  {
    name: "`abandon` of a run killed after the stop: journaled, the report says where the target is",
    item: 12,
    journals: true,
    arrange: async (t) => void (runA = await crashedRun(t.ex, "step.succeeded:stop")),
    act: (t) => t.cli(["abandon", "--run", runA, "--reason", "finished by hand"]),
    exit: 0,
    code: null,
    state: "abandoned",
    async check(t, o) {
      const report = (o.last!.report as string[]).join("\n");
      expect(report).toMatch(/stopped by this run/);
      expect(report).toMatch(/hot backup|restore point/);
      expect(report).toMatch(/start/);
      const h = await cliOutcome(["history", "--config", t.ex.config, "--json"]);
      expect(h.stdout).toContain('"reason":"finished by hand"');
      await t.ex.ctl("start");
      const next = await t.cli(["run", "--to", "2.0.0"]); // the target is free for a new run
      expect(next.last?.state, next.stderr).toBe("completed");
    },
  },
  {
    name: "`abandon` while another process drives the run",
    item: 12,
    unchanged: false,
    timeoutSeconds: 90,
    async act(t) {
      const { done: first } = await slowRun(t);
      const s = await cliOutcome(["status", "--config", t.ex.config, "--json"]);
      const o = await t.cli(["abandon", "--run", s.last!.runId, "--reason", "impatient"]);
      expect((await first).last?.state).toBe("completed");
      return o;
    },
    exit: 4,
    code: "E_BUSY",
  },
  {
    name: "`abandon` of a run that already ended",
    item: 12,
    arrange: async (t) => {
      t.config((c) => (c.verify = [{ command: ["false"] }]));
      runA = (await t.cli(["run", "--to", "2.0.0"])).last!.runId;
    },
    act: (t) => t.cli(["abandon", "--run", runA, "--reason", "x"]),
    exit: 2,
    code: "E_USAGE",
  },
  {
    name: "`abandon` without a reason",
    item: 12,
    arrange: async (t) => void (runA = await crashedRun(t.ex, "step.started:migrate")),
    act: (t) => t.cli(["abandon", "--run", runA]),
    exit: 2,
    code: "E_USAGE",
  },
]);
