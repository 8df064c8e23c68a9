import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createSqliteAdapter } from "../../src/adapters/sqlite/index.js";

const exec = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist", "cli.js");

/** A prepared, running copy of examples/blog at release 1.0.0 on its own port. */
export interface Example {
  dir: string;
  port: number;
  config: string;
  db: string;
  ctl(...args: string[]): Promise<{ code: number; stdout: string }>;
  stats(): Promise<{ authors: number; posts: number; comments: number } | null>;
  health(): Promise<{ version: string; migrations: number } | null>;
  fingerprint(): Promise<string>;
  cleanup(): Promise<void>;
}

/** Prepares the example in a temp dir on `port` (seeded, release 1.0.0, running). */
export async function prepareExample(
  port: number,
  seed: string[] = ["--authors", "10", "--posts-per-author", "10", "--comments-per-post", "3"],
): Promise<Example> {
  const dir = mkdtempSync(join(tmpdir(), "um-blog-"));
  await exec(join(ROOT, "examples/blog/prepare.sh"), [dir, ...seed], { env: { ...process.env, BLOG_PORT: String(port) } });
  return exampleAt(dir, port);
}

/**
 * A copy of `template` (a prepared example on `port`, its service stopped) in a new temp dir,
 * its service started: the same files, seeded database and release as prepare.sh leaves them,
 * without seeding again. The `current` symlink stays relative (into the copy's releases/).
 */
export async function copyExample(template: Example): Promise<Example> {
  if (existsSync(join(template.dir, "run", "server.pid"))) throw new Error(`the template ${template.dir} is running: stop it first`);
  const dir = mkdtempSync(join(tmpdir(), "um-blog-"));
  cpSync(template.dir, dir, { recursive: true, verbatimSymlinks: true });
  const ex = exampleAt(dir, template.port);
  const started = await ex.ctl("start");
  if (started.code !== 0) throw new Error(`ctl.sh start in the copy ${dir} failed: ${started.stdout}`);
  return ex;
}

/** The example prepared in `dir` on `port`. */
function exampleAt(dir: string, port: number): Example {
  const env = { ...process.env, BLOG_PORT: String(port), BLOG_HOME: dir };
  const ex: Example = {
    dir,
    port,
    config: join(dir, "upgrade.json"),
    db: join(dir, "data", "blog.sqlite"),
    async ctl(...args) {
      try {
        const r = await exec(join(dir, "ctl.sh"), args, { env });
        return { code: 0, stdout: r.stdout.trim() };
      } catch (err) {
        const e = err as { code?: number; stdout?: string };
        return { code: e.code ?? 1, stdout: (e.stdout ?? "").trim() };
      }
    },
    async stats() {
      return get(`http://127.0.0.1:${port}/api/stats`);
    },
    async health() {
      return get(`http://127.0.0.1:${port}/health`);
    },
    async fingerprint() {
      const a = createSqliteAdapter({ path: ex.db });
      try {
        return (await a.fingerprint()).hash;
      } finally {
        await a.close();
      }
    },
    async cleanup() {
      await ex.ctl("stop");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return ex;
}

async function get<T>(url: string): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

/**
 * Adds release 3.0.0 to the example: 2.0.0 plus a migration whose second statement fails, and
 * turns the rehearsal off (`"rehearse": false`): the tests that use it prove the rollback after
 * the stop, which a rehearsal would spare the run (test/rehearse.test.ts proves that).
 */
export function addBrokenRelease(ex: Example): void {
  const config = JSON.parse(readFileSync(ex.config, "utf8"));
  writeFileSync(ex.config, JSON.stringify({ ...config, rehearse: false }, null, 2));
  const rel = join(ex.dir, "releases", "3.0.0");
  cpSync(join(ex.dir, "releases", "2.0.0"), rel, { recursive: true, dereference: true });
  writeFileSync(join(rel, "VERSION"), "3.0.0\n");
  const journalFile = join(rel, "drizzle", "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8"));
  const last = journal.entries[journal.entries.length - 1];
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: "0002_broken" });
  writeFileSync(journalFile, JSON.stringify(journal, null, 2));
  writeFileSync(
    join(rel, "drizzle", "0002_broken.sql"),
    "ALTER TABLE `authors` ADD `nickname` text;\n--> statement-breakpoint\nINSERT INTO `no_such_table` VALUES (1);\n",
  );
}

/** Runs the built CLI as a child process. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** The `type:step` of every event of the latest run, from `history --json`. */
export async function eventKeys(config: string): Promise<string[]> {
  const r = await runCli(["history", "--config", config, "--json"]);
  return r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; step: string | null })
    .map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}
