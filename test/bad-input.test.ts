import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openJournal } from "../src/journal/open.js";
import { acquireLease } from "../src/runner/lease.js";
import { BAD_INPUT_CONFIGS } from "./fixtures/configs.js";
import { cli } from "./helpers/cli.js";
import { prepareExample, type Example } from "./helpers/example.js";

describe("bad input gets a code and a next step, and changes nothing", () => {
  let ex: Example;
  let pristine: string;
  let before: { fingerprint: string; config: string };
  const write = (patch: (c: any) => void) => {
    const c = JSON.parse(pristine);
    patch(c);
    writeFileSync(ex.config, JSON.stringify(c));
  };
  const unchanged = async () => {
    expect(await ex.fingerprint()).toBe(before.fingerprint);
    expect(readFileSync(join(ex.dir, "blog.config.json"), "utf8")).toBe(before.config);
    expect(await ex.health()).toMatchObject({ version: "1.0.0" });
    expect((await ex.ctl("version")).stdout).toBe("1.0.0");
  };
  /** Runs and expects an aborted run whose preflight failed with `code`. */
  const abortedWith = async (code: string) => {
    const r = await cli(["run", "--config", ex.config, "--to", "2.0.0", "--json"]);
    expect(r.code, r.stdout).toBe(1);
    const result = r.lines.at(-1);
    expect(result.state).toBe("aborted");
    expect(result.failure.step).toBe("preflight");
    expect(result.failure.error.code).toBe(code);
    expect(result.failure.error.hint).toBeTruthy();
    return result;
  };

  beforeAll(async () => {
    ex = await prepareExample(4331);
    pristine = readFileSync(ex.config, "utf8");
    before = { fingerprint: await ex.fingerprint(), config: readFileSync(join(ex.dir, "blog.config.json"), "utf8") };
  });
  beforeEach(() => {
    writeFileSync(ex.config, pristine);
    rmSync(join(ex.dir, ".upgrade"), { recursive: true, force: true });
  });
  afterAll(async () => {
    await ex.cleanup();
  });

  it("a malformed database URL: E_CONFIG naming the field, exit 2, no state written", async () => {
    write(BAD_INPUT_CONFIGS.malformedDatabaseUrl);
    const r = await cli(["run", "--config", ex.config, "--to", "2.0.0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("E_CONFIG");
    expect(r.stderr).toContain("database");
    expect(r.stderr).not.toContain("s3cret");
    expect(existsSync(join(ex.dir, ".upgrade"))).toBe(false);
    await unchanged();
  });

  it("a typo in a key, a shell-string command, a missing config: exit 2", async () => {
    write(BAD_INPUT_CONFIGS.typoInKey);
    expect((await cli(["run", "--config", ex.config])).stderr).toMatch(/E_CONFIG.*servce/s);
    write(BAD_INPUT_CONFIGS.shellStringCommand);
    const r = await cli(["run", "--config", ex.config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argv");
    expect((await cli(["run", "--config", join(ex.dir, "nope.json")])).code).toBe(2);
    expect(existsSync(join(ex.dir, ".upgrade"))).toBe(false);
    await unchanged();
  });

  it("no --to when the upgrade command needs {toVersion}: exit 2 before any run", async () => {
    const r = await cli(["run", "--config", ex.config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to");
    expect((await cli(["status", "--config", ex.config, "--json"])).lines[0].state).toBe("none");
    await unchanged();
  });

  it("a missing migrations folder: E_MIGRATION_FOLDER, aborted", async () => {
    write((c) => (c.migrations.drizzle = "./no-such-folder"));
    await abortedWith("E_MIGRATION_FOLDER");
    await unchanged();
  });

  it("an edited applied migration: E_CHECKSUM, aborted", async () => {
    // the applied migration as the run reads it: in the folder of the version it installs (./releases/{toVersion}/drizzle)
    const sql = join(
      ex.dir,
      "releases",
      "2.0.0",
      "drizzle",
      readdirSync(join(ex.dir, "releases/2.0.0/drizzle"))
        .filter((f) => f.endsWith(".sql"))
        .sort()[0]!, // 0000_init, applied by 1.0.0
    );
    const original = readFileSync(sql, "utf8");
    writeFileSync(sql, `${original}\n-- edited\n`);
    try {
      await abortedWith("E_CHECKSUM");
      await unchanged();
    } finally {
      writeFileSync(sql, original);
    }
  });

  it("a missing database file: E_NOT_FOUND, aborted, and the file is not created", async () => {
    write((c) => (c.database = "sqlite:./data/missing.sqlite"));
    await abortedWith("E_NOT_FOUND");
    expect(existsSync(join(ex.dir, "data", "missing.sqlite"))).toBe(false);
    await unchanged();
  });

  it("a full disk under the state directory: E_DISK_FULL, aborted", async () => {
    const tiny = join(ex.dir, "tiny");
    mkdirSync(tiny);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", tiny]);
    try {
      write((c) => (c.stateDir = "./tiny/state"));
      await abortedWith("E_DISK_FULL");
      await unchanged();
    } finally {
      execFileSync("umount", [tiny]);
    }
  });

  it("another live process drives the target: E_BUSY, exit 4", async () => {
    const dir = join(ex.dir, ".upgrade");
    const store = await openJournal(`sqlite:${join(dir, "journal.sqlite")}`, ex.dir);
    const lease = await acquireLease(store, `sqlite:${ex.db}`, "someone-else");
    try {
      const r = await cli(["run", "--config", ex.config, "--to", "2.0.0"]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("E_BUSY");
    } finally {
      await lease.release();
      await store.close();
    }
    await unchanged();
  });

  it("a secret printed by a failing command never reaches the journal or the output", async () => {
    write((c) => (c.verify = [{ command: ["sh", "-c", "echo connecting to postgres://admin:hunter2@db.local/app >&2; exit 7"] }]));
    const r = await cli(["run", "--config", ex.config, "--to", "2.0.0", "--json"]);
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatchObject({ state: "rolledBack", failure: { step: "verify" } });
    expect(r.stdout).not.toContain("hunter2");
    const h = await cli(["history", "--config", ex.config, "--json"]);
    expect(h.stdout).toContain("admin:***@db.local");
    expect(h.stdout).not.toContain("hunter2");
    // the journal's bytes on disk (main file and WAL) hold the redacted text, never the secret
    const raw = Buffer.concat(
      ["journal.sqlite", "journal.sqlite-wal"]
        .map((f) => join(ex.dir, ".upgrade", f))
        .filter(existsSync)
        .map((p) => readFileSync(p)),
    );
    expect(raw.includes(Buffer.from("admin:***@"))).toBe(true);
    expect(raw.includes(Buffer.from("hunter2"))).toBe(false);
    await unchanged();
  });
});
