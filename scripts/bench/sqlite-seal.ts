/**
 * Measurements of the SQLite seal and copies (issue 11), reusable by `scripts/bench.ts`:
 *   - `makeBlogDatabase`: a blog database (release 1.0.0's schema) of about `posts` KB;
 *   - `measureSeal`: the real backup and seal steps around a stop, with nothing written or a
 *     fraction of the posts rewritten (row count unchanged) between them;
 *   - `measureCopy`: the seal's full copy (copyFileHashed: copy + sha256 in one pass) vs `cp`;
 *   - `measureHotBackup`: backupSqlite (sha256 included) vs `sqlite3 <db> ".backup <out>"`.
 * Run alone: `node --import jiti/register scripts/bench/sqlite-seal.ts [posts, default 1000000]`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import type { ResolvedConfig } from "../../src/config/types.js";
import type { UpgradeContext } from "../../machines/index.js";
import { backupSqlite, createSqliteAdapter } from "../../src/adapters/sqlite/index.js";
import { copyFileHashed } from "../../src/fs/copy-hashed.js";
import { backup } from "../../src/steps/backup.js";
import { seal } from "../../src/steps/seal.js";
import type { BackupOutput, SealOutput } from "../../src/steps/outputs.js";
import type { StepContext } from "../../src/steps/types.js";

const root = resolve(import.meta.dirname, "../..");
const now = () => performance.now();

/** Creates a WAL-mode blog database at `path` with 1000 authors and `posts` posts of about 1 KB (1M posts: about 1 GB). */
export function makeBlogDatabase(path: string, posts: number): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  const init = readFileSync(join(root, "examples/blog/releases/1.0.0/drizzle/0000_init.sql"), "utf8");
  for (const statement of init.split("--> statement-breakpoint")) db.exec(statement);
  const author = db.prepare("INSERT INTO authors (name, email) VALUES (?, ?)");
  const post = db.prepare("INSERT INTO posts (author_id, title, body, created_at) VALUES (?, ?, ?, ?)");
  const words = "upgrade schema sqlite backup rollback migration journal service health check version release".split(" ");
  let seed = 1;
  const word = () => words[(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % words.length];
  db.transaction(() => {
    for (let i = 1; i <= 1000; i++) author.run(`Author ${i}`, `a${i}@example.com`);
    for (let i = 0; i < posts; i++) post.run(1 + (i % 1000), `Post ${i}`, Array.from({ length: 120 }, word).join(" "), 1_700_000_000 + i);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** A step context for the real backup and seal steps on the SQLite database at `path`. */
function stepContext(path: string, backupDir: string, outputs: Record<string, unknown>, logs: string[]): StepContext {
  const adapter = createSqliteAdapter({ path });
  const ctx = {
    runId: "bench",
    step: "seal",
    attempt: 1,
    firstStartedAt: new Date(),
    config: { files: [] } as unknown as ResolvedConfig,
    run: { outputs } as unknown as UpgradeContext,
    backupDir,
    database: async () => adapter,
    progress() {},
    log: (line: string) => logs.push(line),
    redact: (text: string) => text,
    signal: new AbortController().signal,
  };
  return ctx as unknown as StepContext;
}

/** What `measureSeal` measured. */
export interface SealMeasure {
  backupMs: number;
  /** Each seal's duration (the fast path can be repeated; the slow path runs once). */
  sealMs: number[];
  reusedHotBackup: boolean;
  proof: string | undefined;
  log: string[];
}

/**
 * The backup step while a service connection is open (WAL), then `rewriteFraction` of the posts
 * rewritten by it (same row count), the service's connection closed (the stop), then the seal
 * step `repeat` times (with a rewrite the seal takes a copy: run it once).
 */
export async function measureSeal(path: string, workDir: string, rewriteFraction: number, repeat = 3): Promise<SealMeasure> {
  const service = new Database(path);
  const log: string[] = [];
  const outputs: Record<string, unknown> = {};
  const backupCtx = stepContext(path, join(workDir, "backups"), outputs, log);
  let t = now();
  outputs.backup = (await backup.run(backupCtx)) satisfies BackupOutput;
  const backupMs = now() - t;
  if (rewriteFraction > 0) {
    const step = Math.max(1, Math.round(1 / rewriteFraction));
    service.prepare("UPDATE posts SET title = title || ' (edited)' WHERE id % ? = 0").run(step);
  }
  service.close();
  const sealMs: number[] = [];
  let out: SealOutput | undefined;
  for (let i = 0; i < (rewriteFraction > 0 ? 1 : repeat); i++) {
    t = now();
    out = await seal.run(backupCtx);
    sealMs.push(now() - t);
  }
  await (await backupCtx.database()).close();
  return { backupMs, sealMs, reusedHotBackup: out!.reusedHotBackup, proof: out!.proof, log };
}

/** copyFileHashed (copy, sha256 and fsync in one pass) vs `cp`, and `cp` + `sync <file>` (its fsync), each `repeat` times, alternating; ms. */
export async function measureCopy(path: string, workDir: string, repeat = 3): Promise<{ ours: number[]; cp: number[]; cpSync: number[] }> {
  const ours: number[] = [];
  const cp: number[] = [];
  const cpSync: number[] = [];
  for (let i = 0; i < repeat; i++) {
    rmSync(join(workDir, "copy.sqlite"), { force: true });
    let t = now();
    await copyFileHashed(path, join(workDir, "copy.sqlite"));
    ours.push(now() - t);
    rmSync(join(workDir, "cp.sqlite"), { force: true });
    t = now();
    execFileSync("cp", [path, join(workDir, "cp.sqlite")]);
    cp.push(now() - t);
    execFileSync("sync", [join(workDir, "cp.sqlite")]);
    rmSync(join(workDir, "cp.sqlite"), { force: true });
    t = now();
    execFileSync("cp", [path, join(workDir, "cp.sqlite")]);
    execFileSync("sync", [join(workDir, "cp.sqlite")]);
    cpSync.push(now() - t);
  }
  rmSync(join(workDir, "copy.sqlite"), { force: true });
  rmSync(join(workDir, "cp.sqlite"), { force: true });
  return { ours, cp, cpSync };
}

/** backupSqlite as the hot backup (sha256 included) vs `sqlite3 .backup` (no hash), each `repeat` times; ms and our format. */
export async function measureHotBackup(
  path: string,
  workDir: string,
  repeat = 3,
): Promise<{ ours: number[]; sqlite3: number[]; format: string }> {
  const ours: number[] = [];
  const sqlite3: number[] = [];
  let format = "";
  const db = new Database(path);
  try {
    for (let i = 0; i < repeat; i++) {
      let t = now();
      format = (await backupSqlite(db, join(workDir, "hot"), "hot")).format;
      ours.push(now() - t);
      rmSync(join(workDir, "cli.sqlite"), { force: true });
      t = now();
      execFileSync("sqlite3", [path, `.backup ${join(workDir, "cli.sqlite")}`]);
      sqlite3.push(now() - t);
    }
  } finally {
    db.close();
    rmSync(join(workDir, "hot"), { recursive: true, force: true });
    rmSync(join(workDir, "cli.sqlite"), { force: true });
  }
  return { ours, sqlite3, format };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) =>
  `${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})`;

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const posts = Number(process.argv[2] ?? 1_000_000);
  const work = mkdtempSync(join(tmpdir(), "um-bench-seal-"));
  try {
    const db = join(work, "blog.sqlite");
    const t = now();
    makeBlogDatabase(db, posts);
    const mb = Number(execFileSync("stat", ["-c", "%s", db]).toString()) / 1e6;
    console.log(`database: ${posts} posts, ${mb.toFixed(0)} MB (made in ${((now() - t) / 1000).toFixed(1)} s)`);
    execFileSync("cat", [db], { stdio: ["ignore", "ignore", "ignore"] });
    const quiet = await measureSeal(db, join(work, "quiet"), 0);
    console.log(`seal, nothing written: ${fmt(quiet.sealMs)}; proof: ${quiet.proof}; backup step ${quiet.backupMs.toFixed(0)} ms`);
    console.log(`  ratio seal/backup step: ${(median(quiet.sealMs) / quiet.backupMs).toFixed(4)}`);
    const written = await measureSeal(db, join(work, "written"), 0.01);
    console.log(`seal, 1% of posts rewritten: ${fmt(written.sealMs)}; proof: ${written.proof}; log: ${written.log.join(" | ")}`);
    const copy = await measureCopy(db, work);
    console.log(`full copy + sha256 + fsync: ${fmt(copy.ours)}; cp: ${fmt(copy.cp)}; cp + sync: ${fmt(copy.cpSync)}`);
    console.log(
      `  ratio vs cp ${(median(copy.ours) / median(copy.cp)).toFixed(2)}, vs cp + sync ${(median(copy.ours) / median(copy.cpSync)).toFixed(2)}`,
    );
    const hot = await measureHotBackup(db, work);
    console.log(
      `hot backup (${hot.format}, sha256 included): ${fmt(hot.ours)}; sqlite3 .backup: ${fmt(hot.sqlite3)}; ratio ${(median(hot.ours) / median(hot.sqlite3)).toFixed(2)}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
