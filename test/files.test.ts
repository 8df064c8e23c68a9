// Backed-up files as real deployments shape them: symbolic links (relative, absolute, chains),
// owners and modes, names near NAME_MAX, and entries that are not files at all.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveBackedUpPaths } from "../src/fs/backed-up.js";
import { ensurePrivateDir, ensureStateDir, removeStaleTemps, sideFilePath, tempPathBeside } from "../src/fs/durable.js";
import { backupFile, fileDrift, restoreFile } from "../src/fs/files.js";
import { resolveConfig } from "../src/config/resolve.js";
import { manualInstructions } from "../src/steps/manual.js";

const asRoot = process.getuid?.() === 0;
let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "um-files-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (p: string) => readFileSync(p, "utf8");
const backups = () => join(dir, "backups", "run");

/** etc/real.conf holding "old", and the backup folder's parent. */
function realConf(): string {
  mkdirSync(join(dir, "etc"));
  mkdirSync(join(dir, "backups"), { mode: 0o700 });
  const real = join(dir, "etc", "real.conf");
  writeFileSync(real, "old");
  return real;
}

describe("symbolic links stay links, their real files are backed up and restored", () => {
  it("a relative link replaced by a regular file: the link comes back and the real file gets the old bytes", async () => {
    const real = realConf();
    const link = join(dir, "link.conf");
    symlinkSync("etc/real.conf", link);
    const copy = await backupFile(link, backups(), 0);
    expect(copy).toMatchObject({ path: link, realPath: real, link: "etc/real.conf", exists: true });

    writeFileSync(real, "new");
    rmSync(link);
    writeFileSync(link, "new, as a regular file");
    expect(await fileDrift(copy)).toMatch(/no longer a symbolic link/);

    await restoreFile(copy);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("etc/real.conf");
    expect(read(real)).toBe("old");
    expect(await fileDrift(copy)).toBeNull();
  });

  it("an absolute link retargeted to another file: it points at its old target again, the other file is left alone", async () => {
    const real = realConf();
    const other = join(dir, "etc", "other.conf");
    writeFileSync(other, "other");
    const link = join(dir, "app.conf");
    symlinkSync(real, link);
    const copy = await backupFile(link, backups(), 0);
    expect(copy.link).toBe(real);

    writeFileSync(real, "new");
    rmSync(link);
    symlinkSync(other, link);
    expect(await fileDrift(copy)).toMatch(/points to .*other\.conf/);

    await restoreFile(copy);
    expect(readlinkSync(link)).toBe(real);
    expect(read(real)).toBe("old");
    expect(read(other)).toBe("other");
    expect(await fileDrift(copy)).toBeNull();
  });

  it("a chain of two links, the middle one replaced: both links are put back and the end of the chain restored", async () => {
    const real = realConf();
    const middle = join(dir, "etc", "current.conf");
    symlinkSync("real.conf", middle); // relative to etc/
    const link = join(dir, "app.conf");
    symlinkSync("etc/current.conf", link);
    const copy = await backupFile(link, backups(), 0);
    expect(copy.realPath).toBe(real);
    expect(copy.links).toEqual([
      { path: link, target: "etc/current.conf" },
      { path: middle, target: "real.conf" },
    ]);

    writeFileSync(real, "new");
    rmSync(middle);
    writeFileSync(middle, "new, as a regular file");
    await restoreFile(copy);
    expect(readlinkSync(link)).toBe("etc/current.conf");
    expect(readlinkSync(middle)).toBe("real.conf");
    expect(read(real)).toBe("old");
    expect(await fileDrift(copy)).toBeNull();
  });

  it("a link in an intact state is not touched, and the real file's new content is what the drift reports", async () => {
    const real = realConf();
    const link = join(dir, "link.conf");
    symlinkSync("etc/real.conf", link);
    const copy = await backupFile(link, backups(), 0);
    const inode = lstatSync(link).ino;
    writeFileSync(real, "new");
    expect(await fileDrift(copy)).toMatch(/other content/);
    await restoreFile(copy);
    expect(lstatSync(link).ino).toBe(inode);
    expect(read(real)).toBe("old");
  });

  it("a regular file that became a link is a regular file again after the restore", async () => {
    const real = realConf();
    const elsewhere = join(dir, "elsewhere.conf");
    writeFileSync(elsewhere, "old");
    const copy = await backupFile(real, backups(), 0);
    rmSync(real);
    symlinkSync(elsewhere, real);
    expect(await fileDrift(copy)).toMatch(/became a symbolic link/);
    await restoreFile(copy);
    expect(lstatSync(real).isFile()).toBe(true);
    expect(read(real)).toBe("old");
    expect(await fileDrift(copy)).toBeNull();
  });
});

describe("the commands to finish by hand", () => {
  it("put a replaced link back and restore the real file with its mode, when run in a shell", async () => {
    const real = realConf();
    chmodSync(real, 0o640);
    const link = join(dir, "link.conf");
    symlinkSync("etc/real.conf", link);
    const copy = await backupFile(link, backups(), 0);
    writeFileSync(real, "new");
    chmodSync(real, 0o644);
    rmSync(link);
    writeFileSync(link, "new, as a regular file");

    const config = resolveConfig({ name: "svc", database: "sqlite:./db.sqlite", files: ["./link.conf"] }, dir, null);
    const seal = {
      restorePoint: { path: join(dir, "db-backup.sqlite"), sha256: "0".repeat(64), bytes: 0, format: "sqlite-backup-api", createdAt: "" },
      fingerprint: { hash: "x", schema: "", tables: {} },
      reusedHotBackup: true,
      files: [copy],
    };
    const run = {
      runId: "r",
      target: null,
      toVersion: null,
      fromVersion: null,
      outputs: { seal },
      skipped: {},
      attempts: {},
      failure: null,
      rollbackFailure: null,
    } as never;
    const lines = (await manualInstructions(config, run)).filter((l) => /^(restore a symbolic link|restore a file): /.test(l));
    expect(lines).toHaveLength(2);
    for (const line of lines) execFileSync("bash", ["-c", line.replace(/^[^:]+: /, "")], { cwd: dir });
    expect(readlinkSync(link)).toBe("etc/real.conf");
    expect(read(real)).toBe("old");
    expect(statSync(real).mode & 0o7777).toBe(0o640);
    expect(await fileDrift(copy)).toBeNull();
  });
});

describe("modes and owners", () => {
  it("restores the mode of the real file, and a mode change alone is drift", async () => {
    const real = realConf();
    chmodSync(real, 0o640);
    const copy = await backupFile(real, backups(), 0);
    expect(copy.mode).toBe(0o640);
    expect(statSync(copy.backup!).mode & 0o777).toBe(0o600);
    chmodSync(real, 0o666);
    expect(await fileDrift(copy)).toMatch(/mode 666, not 640/);
    await restoreFile(copy);
    expect(statSync(real).mode & 0o7777).toBe(0o640);
  });

  it.runIf(asRoot)("as root, restores the owner and group, and a setuid bit that chown would clear", async () => {
    const real = realConf();
    chownSync(real, 1234, 1235);
    chmodSync(real, 0o4750);
    const copy = await backupFile(real, backups(), 0);
    expect(copy).toMatchObject({ uid: 1234, gid: 1235, mode: 0o4750 });

    writeFileSync(real, "new");
    chownSync(real, 0, 0);
    chmodSync(real, 0o644);
    expect(await fileDrift(copy)).toMatch(/other content/);
    await restoreFile(copy);
    const st = statSync(real);
    expect([st.uid, st.gid, st.mode & 0o7777, read(real)]).toEqual([1234, 1235, 0o4750, "old"]);
    expect(await fileDrift(copy)).toBeNull();
  });

  it("the state directory is created 0700 when missing and left exactly as it is when it exists", async () => {
    const shared = join(dir, "service");
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    await ensureStateDir(shared);
    expect(statSync(shared).mode & 0o777).toBe(0o755);

    const fresh = join(dir, "fresh", "state");
    await ensureStateDir(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);

    writeFileSync(join(dir, "a-file"), "");
    await expect(ensureStateDir(join(dir, "a-file"))).rejects.toMatchObject({ code: "E_CONFIG" });
  });

  it("a backups folder open to others is refused, never re-permissioned", async () => {
    const open = join(dir, "backups");
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    await expect(ensurePrivateDir(open)).rejects.toMatchObject({ code: "E_BACKUP" });
    expect(statSync(open).mode & 0o777).toBe(0o755);
  });
});

describe("entries that are not regular files of their own", () => {
  it("a directory and a FIFO are refused with E_CONFIG naming the entry, and nothing is copied", async () => {
    mkdirSync(join(dir, "conf.d"));
    execFileSync("mkfifo", [join(dir, "pipe")]);
    for (const entry of ["conf.d", "pipe"]) {
      await expect(backupFile(join(dir, entry), backups(), 0)).rejects.toMatchObject({
        code: "E_CONFIG",
        message: expect.stringContaining(entry),
      });
      await expect(resolveBackedUpPaths(null, [join(dir, entry)])).rejects.toMatchObject({
        code: "E_CONFIG",
        message: expect.stringMatching(new RegExp(`^files\\[0\\]: .*${entry} is a (directory|FIFO)`)),
      });
    }
    expect(readdirSync(dir).sort()).toEqual(["conf.d", "pipe"]);
  }, 10_000);

  it("the database, its -wal, a link to it, a hard link to it and the journal are refused; other files resolve", async () => {
    const db = join(dir, "data.sqlite");
    writeFileSync(db, "db");
    writeFileSync(`${db}-wal`, "wal");
    symlinkSync("data.sqlite", join(dir, "db-link"));
    linkSync(db, join(dir, "db-hard"));
    const journal = join(dir, "journal.sqlite");
    writeFileSync(journal, "journal");
    const protect = [{ path: journal, what: "journal" }];
    for (const [entry, what] of [
      ["data.sqlite", "the database"],
      ["data.sqlite-wal", "the database's -wal file"],
      ["db-link", "the database"],
      ["db-hard", "the database"],
      ["journal.sqlite", "the journal"],
    ] as const) {
      await expect(resolveBackedUpPaths(db, [join(dir, entry)], protect)).rejects.toMatchObject({
        code: "E_CONFIG",
        message: expect.stringContaining(`files[0]: ${join(dir, entry)} is ${what} itself`),
      });
    }
    writeFileSync(join(dir, "app.conf"), "12345");
    symlinkSync("app.conf", join(dir, "app-link.conf"));
    const ok = await resolveBackedUpPaths(join(dir, "db-link"), [join(dir, "app-link.conf")], protect);
    expect(ok.database).toMatchObject({ realPath: db, link: "data.sqlite" });
    expect(ok.files[0]).toMatchObject({ realPath: join(dir, "app.conf"), link: "app.conf" });
    expect(ok.bytes).toBe(5);
  });
});

describe("names derived from a 250-byte file name fit NAME_MAX", () => {
  const long = `${"n".repeat(243)}.sqlite`;
  const bytes = (p: string) => Buffer.byteLength(basename(p));

  it("side files, temporary names and backup copies are shortened with a hash, the same way every time", async () => {
    const db = join(dir, long);
    expect(sideFilePath(join(dir, "blog.sqlite"), ".migrate-lock")).toBe(join(dir, "blog.sqlite.migrate-lock"));
    const lock = sideFilePath(db, ".migrate-lock");
    expect(bytes(lock) + "-journal".length).toBeLessThanOrEqual(255);
    expect(lock.endsWith(".migrate-lock")).toBe(true);
    expect(sideFilePath(db, ".migrate-lock")).toBe(lock);
    expect(sideFilePath(join(dir, `${"n".repeat(243)}.sqlitf`), ".migrate-lock")).not.toBe(lock);
    // multi-byte characters are never cut in half
    const wide = sideFilePath(join(dir, "é".repeat(125)), ".upgrade-lock");
    expect(Buffer.from(basename(wide)).toString()).toBe(basename(wide));
    expect(basename(wide)).not.toContain("\ufffd");
    expect(bytes(tempPathBeside(db, "restore")) + "-journal".length).toBeLessThanOrEqual(255);

    // a temporary file left by a dead process is found and removed under the shortened name
    const dead = Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]));
    const stale = tempPathBeside(db, "restore").replace(`-${process.pid}-`, `-${dead}-`);
    writeFileSync(stale, "left by a crash");
    await removeStaleTemps(db, "restore");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a 250-byte configuration file is backed up and restored", async () => {
    mkdirSync(join(dir, "backups"), { mode: 0o700 });
    const file = join(dir, long);
    writeFileSync(file, "old");
    const copy = await backupFile(file, backups(), 12);
    expect(bytes(copy.backup!)).toBeLessThanOrEqual(247);
    expect(basename(copy.backup!).startsWith("12-nnn")).toBe(true);
    writeFileSync(file, "new");
    await restoreFile(copy);
    expect(read(file)).toBe("old");
    expect(readdirSync(dir).sort()).toEqual(["backups", long].sort());
  });
});
