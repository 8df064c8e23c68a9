// Fleets for the tests: small real SQLite services made from the example blog (real migrations,
// real package switch, real verify), a journal database of their own on the local PostgreSQL.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { CLI, ROOT } from "./example.js";

const exec = promisify(execFile);
export const TMP = "/tmp/h13";
const PG = { host: "127.0.0.1", port: 5432, user: "postgres", password: "", database: "postgres", max: 1, onnotice: () => undefined };

/** A journal database `um_fleet_*` on the local PostgreSQL, dropped by `drop()`. */
export async function journalDatabase(tag: string): Promise<{ url: string; name: string; sql: postgres.Sql; drop(): Promise<void> }> {
  const name = `um_fleet_${tag}_${process.pid}`;
  const admin = postgres(PG);
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const sql = postgres({ ...PG, database: name, max: 2 });
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    name,
    sql,
    async drop() {
      await sql.end({ timeout: 1 });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end({ timeout: 1 });
    },
  };
}

/** A folder under /tmp/h13, removed by the caller. */
export function tempDir(prefix: string): string {
  mkdirSync(TMP, { recursive: true });
  return mkdtempSync(join(TMP, `${prefix}-`));
}

/**
 * The blog installed at 1.0.0 and seeded (small), its service stopped: copied for each target.
 * `port` is only used while preparing.
 */
export async function blogTemplate(dir: string, port: number): Promise<string> {
  const t = join(dir, "template");
  await exec(join(ROOT, "examples/blog/prepare.sh"), [t, "--authors", "3", "--posts-per-author", "3", "--comments-per-post", "1"], {
    env: { ...process.env, BLOG_PORT: String(port) },
  });
  await exec(join(t, "ctl.sh"), ["stop"], { env: { ...process.env, BLOG_HOME: t } });
  return t;
}

/**
 * A target without a running service (a copy of the template): backup, package switch to
 * 2.0.0, migrations, verify and, on failure, the rollback. `broken`: its 2.0.0 has a migration
 * whose second statement fails, with the rehearsal off, so its run rolls back (with the rehearsal
 * on it would end aborted before the stop).
 */
export function serviceLessTarget(template: string, dir: string, broken = false): string {
  cpSync(template, dir, { recursive: true, verbatimSymlinks: true });
  const file = join(dir, "upgrade.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  delete c.service;
  delete c.announce;
  if (broken) c.rehearse = false;
  writeFileSync(file, JSON.stringify(c, null, 2));
  if (broken) breakRelease(dir, "2.0.0");
  return file;
}

/** Adds a failing migration to release `version` of a blog folder. */
export function breakRelease(dir: string, version: string): void {
  const rel = join(dir, "releases", version, "drizzle");
  const journalFile = join(rel, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8"));
  const last = journal.entries[journal.entries.length - 1];
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: "0099_broken" });
  writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  writeFileSync(
    join(rel, "0099_broken.sql"),
    "ALTER TABLE `authors` ADD `nickname` text;\n--> statement-breakpoint\nINSERT INTO `no_such_table` VALUES (1);\n",
  );
}

/** Writes a fleet file into `dir`. */
export function writeFleet(dir: string, fleet: Record<string, unknown>, file = "fleet.json"): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(fleet, null, 2));
  return path;
}

/** The installed version of a blog folder. */
export function versionOf(dir: string): string {
  return readFileSync(join(dir, "current", "VERSION"), "utf8").trim();
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A CLI process (`fleet run`, `fleet work`...) added to `children` (for the caller to kill), its output kept. */
export function cliWorker(
  children: ChildProcess[],
  args: string[],
): { child: ChildProcess; exit: Promise<number | null>; out: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (out += d));
  return { child, exit: new Promise((r) => child.on("close", (code) => r(code))), out: () => out };
}

/** Polls `f` every 25 ms until it gives a value, or throws after `ms`. */
export async function until<T>(
  what: string,
  f: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
