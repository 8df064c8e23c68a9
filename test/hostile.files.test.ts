// Issue 8, items 4 and 10 and the file shapes of real deployments, through the real CLI: symbolic
// links to configuration files and to the database, state directories that belong to the service,
// owners and modes, `files` entries that are not files of their own, and names near NAME_MAX.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { addBrokenRelease } from "./helpers/example.js";
import {
  fileState,
  hostileSuite,
  sqliteFingerprint,
  type CaseTools,
  type HostileCase,
  type Outcome,
  type World,
} from "./helpers/hostile.js";

const exec = promisify(execFile);

/** Makes the package upgrade do `shell` (in the service's folder) before installing the release. */
function upgradeDoes(t: CaseTools, shell: string): void {
  const script = join(t.ex.dir, "upgrade.sh");
  writeFileSync(script, `#!/bin/sh\nset -e\n${shell}\nexec ./ctl.sh install "$1"\n`);
  chmodSync(script, 0o755);
  t.config((c) => (c.package.upgrade.command = ["./upgrade.sh", "{toVersion}"]));
}

/** Puts blog.config.json behind a symbolic link to etc/real.conf; returns [link, real file]. */
function linkConfig(t: CaseTools, target = "etc/real.conf"): string[] {
  const link = join(t.ex.dir, "blog.config.json");
  const real = join(t.ex.dir, "etc", "real.conf");
  mkdirSync(dirname(real));
  renameSync(link, real);
  symlinkSync(target, link);
  return [link, real];
}

/** Stops the service, moves its database to `path` (a symlink left behind when `link`), points the config at it, starts it again. */
async function moveDatabase(t: CaseTools, path: string, options: { link?: string } = {}): Promise<void> {
  const ex = t.ex;
  expect((await ex.ctl("stop")).code).toBe(0);
  mkdirSync(dirname(path), { recursive: true });
  for (const suffix of ["", "-wal", "-shm"]) if (existsSync(ex.db + suffix)) renameSync(ex.db + suffix, path + suffix);
  const env: Record<string, string> = {};
  if (options.link !== undefined) symlinkSync(options.link, ex.db);
  else {
    env.BLOG_DB = path;
    t.config((c) => {
      c.database = `sqlite:${path}`;
      c.env = { ...c.env, BLOG_DB: path };
    });
    ex.db = path;
  }
  await exec(join(ex.dir, "ctl.sh"), ["start"], { env: { ...process.env, BLOG_HOME: ex.dir, BLOG_PORT: String(ex.port), ...env } });
}

/**
 * After a rollback: the previous version runs again (a new pid, by the rollback's start), the
 * database equals the one before, and every watched path is what it was: links the same links
 * with the same targets, files the same bytes, modes and owners. A restored database file is new
 * bytes with the same content, so for it only the kind, mode and owner count.
 */
function sameAsBefore(watch: (t: CaseTools) => string[]) {
  return (t: CaseTools, _o: Outcome, before: World, after: World) => {
    expect(after.fingerprint).toBe(before.fingerprint);
    expect(after.version).toBe("1.0.0");
    expect(after.pid).not.toBeNull();
    for (const p of [...Object.keys(before.files), ...watch(t)]) {
      const was = before.files[p] ?? fileState(p);
      const now = after.files[p] ?? fileState(p);
      if (p === t.ex.db && was.type === "file") expect({ ...now, sha256: null }, p).toEqual({ ...was, sha256: null });
      else expect(now, p).toEqual(was);
    }
  };
}

const byteName = `${"n".repeat(243)}.sqlite`;
const deepPath = (t: CaseTools) =>
  join(t.ex.dir, "data", ...Array.from({ length: 3 }, (_, i) => `volume-${i}-${"d".repeat(30)}`), `${"n".repeat(233)}.sqlite`);

/** A run that stops at preflight with E_CONFIG naming the entry; nothing changes but the journal. */
function refusedEntry(name: string, files: (t: CaseTools) => string[], says: RegExp, arrange?: (t: CaseTools) => void): HostileCase {
  return {
    name,
    item: 8,
    arrange(t) {
      arrange?.(t);
      t.config((c) => (c.files = files(t)));
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 1,
    code: "E_CONFIG",
    state: "aborted",
    journals: true,
    check(t, o) {
      expect(o.last?.failure?.step).toBe("preflight");
      expect(o.last?.failure?.error?.message).toMatch(says);
      expect(existsSync(join(t.ex.dir, ".upgrade", "backups"))).toBe(false);
    },
    timeoutSeconds: 90,
  };
}

const rollback = {
  act: (t: CaseTools) => t.cli(["run", "--to", "3.0.0"]),
  exit: 1,
  code: "E_MIGRATION_FAILED",
  state: "rolledBack",
  unchanged: false,
  timeoutSeconds: 150,
} as const;

hostileSuite("hostile shapes: files, links, modes and long names", 4411, [
  {
    name: "a symlinked config file written through its link by a failing upgrade: the link stays, its target gets the old bytes",
    item: 4,
    ...rollback,
    arrange(t) {
      addBrokenRelease(t.ex);
      upgradeDoes(t, `printf '{"title":"new"}' > blog.config.json`);
      return linkConfig(t);
    },
    check: sameAsBefore((t) => [join(t.ex.dir, "etc", "real.conf")]),
  },
  {
    name: "a symlinked config file replaced by a regular file (sed -i) in a failing upgrade: the link comes back",
    item: 4,
    ...rollback,
    arrange(t) {
      addBrokenRelease(t.ex);
      upgradeDoes(t, `printf '{"title":"new"}' > etc/real.conf; rm blog.config.json; printf '{"title":"new"}' > blog.config.json`);
      return linkConfig(t);
    },
    check: sameAsBefore((t) => [join(t.ex.dir, "etc", "real.conf")]),
  },
  {
    name: "a symlinked config file retargeted by a failing upgrade: the link points at its old target again",
    item: 4,
    ...rollback,
    arrange(t) {
      addBrokenRelease(t.ex);
      upgradeDoes(t, `printf '{"title":"new"}' > etc/new.conf; ln -sfn etc/new.conf blog.config.json`);
      return linkConfig(t);
    },
    check: sameAsBefore((t) => [join(t.ex.dir, "etc", "real.conf")]),
  },
  {
    name: "a chain of two links (absolute, then relative), the middle one replaced and the end rewritten: both links and the end restored",
    item: 4,
    ...rollback,
    arrange(t) {
      addBrokenRelease(t.ex);
      const [link, real] = linkConfig(t, join(t.ex.dir, "etc", "current.conf"));
      symlinkSync("real.conf", join(t.ex.dir, "etc", "current.conf"));
      upgradeDoes(t, `printf '{"title":"new"}' > etc/real.conf; rm etc/current.conf; printf '{"title":"new"}' > etc/current.conf`);
      return [link!, real!, join(t.ex.dir, "etc", "current.conf")];
    },
    check: sameAsBefore((t) => [join(t.ex.dir, "etc", "real.conf"), join(t.ex.dir, "etc", "current.conf")]),
  },
  {
    name: "a symlinked database (data/blog.sqlite -> ../volumes/blog.sqlite) rolled back: the real file is restored, the link stays",
    item: 4,
    ...rollback,
    async arrange(t) {
      addBrokenRelease(t.ex);
      await moveDatabase(t, join(t.ex.dir, "volumes", "blog.sqlite"), { link: "../volumes/blog.sqlite" });
    },
    async check(t, o, before, after) {
      sameAsBefore(() => [])(t, o, before, after);
      expect(after.files[t.ex.db]).toMatchObject({ type: "link", link: "../volumes/blog.sqlite" });
      expect(await sqliteFingerprint(join(t.ex.dir, "volumes", "blog.sqlite"))).toBe(before.fingerprint);
      expect(readdirSync(join(t.ex.dir, "data"))).toEqual(["blog.sqlite"]);
    },
  },
  {
    name: 'stateDir "." (the service\'s own folder, 0755): the run completes and the folder keeps its mode',
    item: 10,
    arrange(t) {
      chmodSync(t.ex.dir, 0o755);
      t.config((c) => (c.stateDir = "."));
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 0,
    code: null,
    state: "completed",
    unchanged: false,
    timeoutSeconds: 120,
    check(t, _o, before, after) {
      expect(before.files[t.ex.dir]?.mode).toBe(0o755);
      expect(after.files[t.ex.dir]).toEqual(before.files[t.ex.dir]);
      expect(statSync(join(t.ex.dir, "backups")).mode & 0o777).toBe(0o700);
      const [run] = readdirSync(join(t.ex.dir, "backups"));
      expect(statSync(join(t.ex.dir, "backups", run!)).mode & 0o777).toBe(0o700);
      expect(after.version).toBe("2.0.0");
    },
  },
  {
    name: "stateDir pointing at an existing 0755 folder: left 0755, the backups go into a 0700 folder of the tool's own",
    item: 10,
    arrange(t) {
      mkdirSync(join(t.ex.dir, "state"), { mode: 0o755 });
      chmodSync(join(t.ex.dir, "state"), 0o755);
      t.config((c) => (c.stateDir = "./state"));
      return [join(t.ex.dir, "state")];
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 0,
    code: null,
    state: "completed",
    unchanged: false,
    timeoutSeconds: 120,
    check(t, _o, before, after) {
      const state = join(t.ex.dir, "state");
      expect(after.files[state]).toEqual(before.files[state]);
      expect(statSync(join(state, "backups")).mode & 0o777).toBe(0o700);
      const [run] = readdirSync(join(state, "backups"));
      const files = readdirSync(join(state, "backups", run!), { recursive: true }) as string[];
      expect(files.length).toBeGreaterThan(0);
      for (const f of files)
        expect(statSync(join(state, "backups", run!, f)).mode & 0o777, f).toBe(
          statSync(join(state, "backups", run!, f)).isDirectory() ? 0o700 : 0o600,
        );
    },
  },
  {
    name: "a backups folder open to others (0755) inside the state directory: refused with E_BACKUP, never re-permissioned",
    item: 10,
    arrange(t) {
      const backups = join(t.ex.dir, ".upgrade", "backups");
      mkdirSync(backups, { recursive: true, mode: 0o755 });
      chmodSync(backups, 0o755);
      return [backups];
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 1,
    code: "E_BACKUP",
    state: "aborted",
    journals: true,
    timeoutSeconds: 90,
    check(t) {
      expect(readdirSync(join(t.ex.dir, ".upgrade", "backups"))).toEqual([]);
    },
  },
  {
    name: "a restored config file owned by another user with mode 0640, replaced by a failing upgrade: owner, group and mode come back",
    item: 10,
    ...rollback,
    arrange(t) {
      addBrokenRelease(t.ex);
      const conf = join(t.ex.dir, "blog.config.json");
      chownSync(conf, 1234, 1235);
      chmodSync(conf, 0o640);
      upgradeDoes(t, `rm blog.config.json; printf '{"title":"new"}' > blog.config.json`);
    },
    check: sameAsBefore(() => []),
  },
  refusedEntry(
    "a `files` entry that is a directory",
    () => ["./blog.config.json", "./conf.d"],
    /files\[1\]: .*conf\.d is a directory/,
    (t) => mkdirSync(join(t.ex.dir, "conf.d")),
  ),
  refusedEntry(
    "a `files` entry that is a FIFO (a backup would block reading it)",
    () => ["./pipe"],
    /files\[0\]: .*pipe is a FIFO/,
    (t) => execFileSync("mkfifo", [join(t.ex.dir, "pipe")]),
  ),
  refusedEntry(
    "a `files` entry that is the database itself",
    () => ["./blog.config.json", "./data/blog.sqlite"],
    /files\[1\]: .* is the database itself/,
  ),
  refusedEntry(
    "a `files` entry that is the database's -wal file",
    () => ["./data/blog.sqlite-wal"],
    /files\[0\]: .* is the database's -wal file itself/,
    (t) => expect(existsSync(`${t.ex.db}-wal`)).toBe(true),
  ),
  refusedEntry(
    "a `files` entry that is a symbolic link to the database",
    () => ["./db-link"],
    /files\[0\]: .*db-link is the database itself/,
    (t) => symlinkSync("data/blog.sqlite", join(t.ex.dir, "db-link")),
  ),
  refusedEntry(
    "a `files` entry that is the run's own journal",
    () => ["./.upgrade/journal.sqlite"],
    /files\[0\]: .* is the journal itself/,
  ),
  {
    name: "a 250-byte database file name: a failing upgrade rolls back",
    item: 8,
    ...rollback,
    async arrange(t) {
      addBrokenRelease(t.ex);
      await moveDatabase(t, join(t.ex.dir, "data", byteName));
    },
    check: sameAsBefore(() => []),
  },
  {
    name: "a 250-byte database file name: the upgrade completes",
    item: 8,
    async arrange(t) {
      await moveDatabase(t, join(t.ex.dir, "data", byteName));
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 0,
    code: null,
    state: "completed",
    unchanged: false,
    timeoutSeconds: 120,
    async check(t, _o, before, after) {
      expect(after.version).toBe("2.0.0");
      expect(await t.ex.health()).toMatchObject({ version: "2.0.0", migrations: 2 });
      expect(after.fingerprint).not.toBe(before.fingerprint);
      for (const name of readdirSync(join(t.ex.dir, "data"))) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    },
  },
  {
    name: "a database path of more than 300 characters (deep folders, a 240-byte name): a failing upgrade rolls back",
    item: 8,
    ...rollback,
    async arrange(t) {
      expect(deepPath(t).length).toBeGreaterThan(300);
      addBrokenRelease(t.ex);
      await moveDatabase(t, deepPath(t));
    },
    check: sameAsBefore(() => []),
  },
]);
