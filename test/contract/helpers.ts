// Small helpers shared by the contract suites: migration folder copies, caught errors, children.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isUpgradeError, type UpgradeError } from "../../src/errors.js";

/**
 * A copy of a drizzle-kit folder whose journal lists only the first `count` migrations, made in
 * `parent` (the test's own temporary directory, removed with it).
 */
export function folderWith(source: string, count: number, parent: string = tmpdir()): string {
  const out = join(mkdtempSync(join(parent, "migrations-")), "m");
  cpSync(source, out, { recursive: true });
  const journalPath = join(out, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, count);
  writeFileSync(journalPath, JSON.stringify(journal, null, 2));
  return out;
}

/** The UpgradeError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function caught(promise: Promise<unknown>): Promise<UpgradeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isUpgradeError(err)) throw new Error(`expected an UpgradeError, got ${err === undefined ? "success" : String(err)}`);
  return err;
}

/** Everything an error shows an operator or the journal: message, hint, details. */
export function everything(err: UpgradeError): string {
  return `${err.message}\n${err.hint ?? ""}\n${JSON.stringify(err.details ?? {})}`;
}

const MIGRATE_CHILD = fileURLToPath(new URL("./migrate-child.ts", import.meta.url));

/** A child process running `migrate-child.ts`, with its stdout lines. */
export interface MigrateChild {
  /** Resolves when the child printed `ready` (it is about to take the lock). */
  ready: Promise<void>;
  /** Resolves with the exit code and the last JSON line printed. */
  done: Promise<{ code: number | null; result: Record<string, unknown> }>;
}

/** Starts a real process that runs the migrations of `dir` on `url` (see migrate-child.ts). */
export function startMigrateChild(url: string, dir: string): MigrateChild {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("jiti/register"), MIGRATE_CHILD, url, dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (out.includes("ready\n")) onReady();
  });
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; result: Record<string, unknown> }>((resolve) => {
    child.on("close", (code) => {
      const last = out.trim().split("\n").pop() ?? "";
      let result: Record<string, unknown>;
      try {
        result = JSON.parse(last) as Record<string, unknown>;
      } catch {
        result = { unparsable: last, stderr: err };
      }
      resolve({ code, result });
    });
  });
  return { ready, done };
}

const LOCK_CHILD = fileURLToPath(new URL("./lock-child.ts", import.meta.url));

/** A real process holding the target lock of `url` until killed; resolves once it holds it (or with its refusal). */
export function startLockChild(url: string): Promise<{ line: string; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("jiti/register"), LOCK_CHILD, url], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) {
        resolve({
          line,
          async kill() {
            child.kill("SIGKILL");
            await exited;
          },
        });
      }
    });
    child.on("exit", (code) => {
      if (!out.includes("\n")) reject(new Error(`lock child exited ${code}: ${err}`));
    });
  });
}
