import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands.js";
import { GLOBAL_FLAGS } from "../src/cli/define.js";
import { synopsis } from "../src/cli/help.js";
import { cli } from "./helpers/cli.js";
import { ROOT, prepareExample, type Example } from "./helpers/example.js";

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
    // the example's folder names {toVersion}: plan reads 2.0.0's migrations before it is installed
    expect(plan.pendingMigrations).toEqual(["0001_posts_created_at_not_null"]);
    expect(plan.migrationNote).toBeNull();
    expect(plan.rehearsal).toBeNull();
    expect(plan.steps.find((s: any) => s.step === "rehearse")).toEqual({ step: "rehearse", action: "run" });
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

describe("every command declares its flags: the parser and the help are made from them", () => {
  const dir = mkdtempSync(join(tmpdir(), "um-cli-flags-"));
  const config = join(dir, "upgrade.json");
  const db = join(dir, "db.sqlite");
  let dbBytes: Buffer;
  beforeAll(() => {
    writeFileSync(config, JSON.stringify({ name: "flags", database: "sqlite:./db.sqlite" }));
    const d = new Database(db);
    d.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
    d.close();
    dbBytes = readFileSync(db);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** Nothing ran: no state directory, no journal, the database byte for byte. */
  const unchanged = () => {
    expect(readdirSync(dir).sort()).toEqual(["db.sqlite", "upgrade.json"]);
    expect(readFileSync(db).equals(dbBytes)).toBe(true);
  };
  /** A value that fits the flag's type, so that only its place can be wrong. */
  const withValue = (name: string): string[] => {
    const spec = Object.values(COMMANDS).find((c) => name in c.flags)!.flags[name]!;
    return spec.type === "boolean" ? [`--${name}`] : [`--${name}`, spec.choices?.[0] ?? (spec.type === "port" ? "4461" : "x")];
  };
  const names = Object.keys(COMMANDS);
  const allFlags = [...new Set(Object.values(COMMANDS).flatMap((c) => Object.keys(c.flags)))];

  it("the commands are those of the CLI, and a flag has one kind wherever it is declared", () => {
    expect(names.sort()).toEqual([
      "abandon",
      "backups",
      "backups prune",
      "fleet approve",
      "fleet cancel",
      "fleet history",
      "fleet pause",
      "fleet resume",
      "fleet run",
      "fleet status",
      "fleet view",
      "fleet work",
      "graph",
      "history",
      "plan",
      "restore",
      "resume",
      "run",
      "schema",
      "status",
      "view",
    ]);
    for (const flag of allFlags) {
      const kinds = new Set(Object.values(COMMANDS).flatMap((c) => (c.flags[flag] ? [c.flags[flag]!.type] : [])));
      expect(kinds.size, flag).toBe(1);
      expect(flag in GLOBAL_FLAGS, flag).toBe(false);
    }
  });

  for (const name of Object.keys(COMMANDS)) {
    const command = COMMANDS[name]!;
    const foreign = allFlags.filter((f) => !(f in command.flags));
    const required = Object.entries(command.flags).flatMap(([f, spec]) => (spec.required ? withValue(f) : []));

    it(`${name}: a flag of another command is E_USAGE (exit 2) naming the commands that take it, and nothing runs`, async () => {
      expect(foreign.length).toBeGreaterThan(0);
      for (const flag of foreign) {
        const r = await cli([name, "--config", config, ...required, ...withValue(flag)], { cwd: dir });
        expect(r.code, `${name} --${flag}: ${r.stdout}${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(`E_USAGE: --${flag} is not an option of \`${name}\``);
        expect(r.stderr).toContain(`upgrade-machine ${name} --help`);
        const json = await cli([name, "--config", config, ...required, ...withValue(flag), "--json"], { cwd: dir });
        expect(json.code).toBe(2);
        expect(json.lines).toEqual([expect.objectContaining({ type: "error", code: "E_USAGE" })]);
      }
      unchanged();
    });

    it(`${name}: an unknown flag, a command's flag before the command, and a stray argument are E_USAGE (exit 2)`, async () => {
      const bogus = await cli([name, "--config", config, ...required, "--bogus"], { cwd: dir });
      expect(bogus.code).toBe(2);
      expect(bogus.stderr).toContain("E_USAGE: unknown option --bogus");
      const own = Object.keys(command.flags)[0];
      if (own) {
        const misplaced = await cli([...withValue(own), name, "--config", config, ...required], { cwd: dir });
        expect(misplaced.code, misplaced.stderr).toBe(2);
        expect(misplaced.stderr).toContain(`E_USAGE: --${own} is an option of \`${name}\`: put it after the command`);
      }
      const stray = await cli([name, "stray", "--config", config, ...required], { cwd: dir });
      expect(stray.code).toBe(2);
      expect(stray.stderr).toContain('E_USAGE: unexpected argument "stray"');
      unchanged();
    });

    it(`${name} --help: generated from its declaration (synopsis, every flag with its help), exit 0, nothing runs`, async () => {
      const r = await cli([name, "--help"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      const text = r.stdout.replace(/\s+/g, " ");
      // A long synopsis is wrapped over lines: compared with its whitespace as the text's.
      expect(text.startsWith(`usage: upgrade-machine ${synopsis(name, command).replace(/\s+/g, " ")}`)).toBe(true);
      expect(text).toContain(command.summary);
      for (const [flag, spec] of Object.entries({ ...command.flags, ...GLOBAL_FLAGS })) {
        expect(text, flag).toContain(`--${flag}`);
        expect(text, flag).toContain(spec.help);
      }
      for (const flag of foreign) expect(r.stdout, flag).not.toMatch(new RegExp(`--${flag}\\b`));
      expect((await cli(["-h", name], { cwd: dir })).stdout).toBe(r.stdout);
      unchanged();
    });
  }

  it("upgrade-machine --help lists every command with its synopsis and summary, and the exit codes", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, " ");
    for (const [name, command] of Object.entries(COMMANDS)) {
      expect(text).toContain(synopsis(name, command));
      expect(text).toContain(command.summary);
    }
    expect(r.stdout).toMatch(/exit codes:\n {2}0 {2}completed/);
  });

  it("a missing required flag is E_USAGE naming it (abandon --run, --reason)", async () => {
    const noRun = await cli(["abandon", "--config", config, "--reason", "x"], { cwd: dir });
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain("E_USAGE: `abandon` needs --run ID");
    const noReason = await cli(["abandon", "--config", config, "--run", "r1"], { cwd: dir });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("E_USAGE: `abandon` needs --reason TEXT");
    unchanged();
  });

  it("values of the wrong kind are E_USAGE: a port out of range, a format not offered, a string flag without a value, --port without --inspect", async () => {
    for (const argv of [
      ["view", "--port", "65536"],
      ["view", "--port", "-1"],
      ["graph", "--format", "svg"],
      ["status", "--run"],
      ["backups", "--verify=yes"],
      ["run", "--port", "4461"],
    ]) {
      const r = await cli([...argv, "--config", config], { cwd: dir });
      expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr, argv.join(" ")).toContain("E_USAGE");
    }
    unchanged();
  });
});

describe("the CLI reaches nothing past the API", () => {
  /** The modules past the API that a source imports values from (type imports are erased). */
  const pastTheApi = (source: string) =>
    [...source.matchAll(/^(?:import|export) (type )?[^;]*? from "([^"]+)";$/gms)]
      .filter(([, type, from]) => !type && /^\.\.\/(runner|journal|session|steps|adapters)\//.test(from!))
      .map(([, , from]) => from);

  it("no file of src/cli imports a value from the runner, the journal, the session, the steps or the adapters", () => {
    // the check itself: what historyCommand used to import is caught, a type import is not
    expect(pastTheApi('import { foldJournal } from "../runner/fold.js";\nimport type { RunResult } from "../runner/result.js";\n')).toEqual(
      ["../runner/fold.js"],
    );
    const cliDir = join(ROOT, "src", "cli");
    const files = readdirSync(cliDir).filter((f) => f.endsWith(".ts"));
    expect(files).toContain("commands.ts");
    for (const file of files) expect(pastTheApi(readFileSync(join(cliDir, file), "utf8")), file).toEqual([]);
  });
});
