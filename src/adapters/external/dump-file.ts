import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { UpgradeError } from "../../errors.js";
import type { OnProgress } from "../../progress.js";
import { redactSecrets } from "../../url.js";
import { backupWriteError, ensurePrivateDir, fsyncPath, removeIfExists, hashFile, tempPathBeside } from "../../fs/durable.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import { TailBuffer } from "./tool.js";

/** Turns a failed tool run (its redacted stderr tail and exit code) into a coded error. */
export type ClassifyFailure = (stderr: string, exitCode: number | null) => UpgradeError;

/** A tool to run: argv (never a shell string), its environment (with the password) and the secrets to redact. */
export interface ToolRun {
  argv: readonly [string, ...string[]];
  env: NodeJS.ProcessEnv;
  /** Values hidden from the stderr handed to `classify` (the password). */
  secrets: string[];
  classify: ClassifyFailure;
}

/** Refuses a backup name that is not a plain file name. */
export function checkBackupName(name: string): void {
  if (name === "" || /[\\/]/.test(name) || name === "." || name === "..") {
    throw new UpgradeError("E_USAGE", `backup name ${JSON.stringify(name)} must be a plain file name`, {
      hint: "use a name without slashes, e.g. the run id",
    });
  }
}

/** A pass-through that hashes and counts the bytes, reporting progress at most every MiB. */
function hashing(
  onProgress: OnProgress | undefined,
  total?: number,
): { stream: Transform; result: () => { sha256: string; bytes: number } } {
  const hash = createHash("sha256");
  let bytes = 0;
  let reported = 0;
  const report = (): void => {
    try {
      onProgress?.({ unit: "bytes", done: bytes, ...(total !== undefined ? { total } : {}) });
    } catch {
      // a progress listener must not break a copy
    }
  };
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes - reported >= 1 << 20) {
        reported = bytes;
        report();
      }
      cb(null, chunk);
    },
    flush(cb) {
      report();
      cb();
    },
  });
  return { stream, result: () => ({ sha256: hash.digest("hex"), bytes }) };
}

function spawnTool(run: ToolRun, stdin: "pipe" | "ignore", signal: AbortSignal | undefined) {
  const [program, ...args] = run.argv;
  const child = spawn(program, args, {
    env: run.env,
    stdio: [stdin, stdin === "pipe" ? "ignore" : "pipe", "pipe"],
    ...(signal ? { signal } : {}),
  });
  const stderr = new TailBuffer();
  child.stderr?.on("data", (c: Buffer) => stderr.push(c));
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.name === "AbortError") return reject(new UpgradeError("E_BACKUP", `${program} was aborted`, { cause: err }));
      reject(
        new UpgradeError("E_TOOL_MISSING", `cannot run ${program}: ${err.message}`, {
          hint: `check that ${program} is installed and executable`,
          cause: err,
        }),
      );
    });
    child.on("close", (code) => resolveExit(code));
  });
  exited.catch(() => undefined);
  return { child, exited, stderr };
}

/**
 * Runs a dump tool and streams its stdout into `<dir>/<fileName>` (after an optional `header`),
 * hashing while writing: a hidden temporary file (0600, in a 0700 directory), fsynced, then
 * renamed, so a crash never leaves a partial file under the final name. Re-running overwrites.
 *
 * @throws the tool's classified error, E_DISK_FULL, or E_BACKUP; nothing is left behind.
 */
export async function dumpToFile(
  run: ToolRun,
  dir: string,
  fileName: string,
  format: string,
  options: CopyOptions & { header?: string } = {},
): Promise<BackupArtifact> {
  const backupDir = resolve(dir);
  await ensurePrivateDir(backupDir);
  const finalPath = join(backupDir, fileName);
  const tmpPath = tempPathBeside(finalPath, "backup");
  const { child, exited, stderr } = spawnTool(run, "ignore", options.signal);
  const counter = hashing(options.onProgress);
  try {
    const stdout = child.stdout;
    if (!stdout)
      throw new UpgradeError("E_BACKUP", `${run.argv[0] ?? "the dump tool"} has no stdout to read the dump from`, {
        hint: "this is a bug of upgrade-machine: report it",
      });
    async function* withHeader(): AsyncGenerator<Buffer> {
      if (options.header) yield Buffer.from(options.header);
      for await (const chunk of stdout!) yield chunk as Buffer;
    }
    const out = createWriteStream(tmpPath, { flags: "wx", mode: 0o600 });
    const [copied, code] = await Promise.allSettled([pipeline(Readable.from(withHeader()), counter.stream, out), exited]);
    if (code.status === "rejected") throw code.reason;
    if (code.value !== 0) throw run.classify(redactSecrets(stderr.toString().trim(), run.secrets), code.value);
    if (copied.status === "rejected") throw copied.reason;
    const { sha256, bytes } = counter.result();
    await chmod(tmpPath, 0o600);
    await fsyncPath(tmpPath);
    await rename(tmpPath, finalPath);
    await fsyncPath(backupDir);
    return { path: finalPath, bytes, sha256, format, createdAt: new Date().toISOString() };
  } catch (err) {
    child.kill("SIGKILL");
    await removeIfExists(tmpPath).catch(() => undefined);
    throw backupWriteError(err, backupDir, finalPath, { file: fileName });
  }
}

/**
 * Checks that a backup file is intact (sha256 and size as recorded when it was written).
 *
 * @throws UpgradeError E_RESTORE when it is missing, unreadable or different; nothing is changed.
 */
export async function verifyArtifact(artifact: BackupArtifact): Promise<void> {
  const actual = await hashFile(artifact.path).catch((err: unknown) => {
    throw new UpgradeError("E_RESTORE", `backup ${artifact.path} cannot be read: ${(err as Error).message}`, {
      hint: "check that the backup file exists and is readable (the database was not changed)",
      details: { path: artifact.path },
      cause: err,
    });
  });
  if (actual.sha256 !== artifact.sha256 || actual.bytes !== artifact.bytes) {
    throw new UpgradeError(
      "E_RESTORE",
      `backup ${artifact.path} is corrupt: its sha256 or size differs from the one recorded when it was written`,
      {
        hint: "do not use this file; restore from another backup (the database was not changed)",
        details: {
          path: artifact.path,
          expected: artifact.sha256,
          actual: actual.sha256,
          expectedBytes: artifact.bytes,
          bytes: actual.bytes,
        },
      },
    );
  }
}

/**
 * Streams a backup file into a tool's stdin (`pg_restore`, `mariadb`), hashing it again on the
 * way: a file that changed since `verifyArtifact` fails with E_RESTORE once the tool is done.
 *
 * @throws the tool's classified error, or E_RESTORE.
 */
export async function feedFileToTool(run: ToolRun, artifact: BackupArtifact, options: CopyOptions = {}): Promise<void> {
  const { child, exited, stderr } = spawnTool(run, "pipe", options.signal);
  const counter = hashing(options.onProgress, artifact.bytes);
  const stdin = child.stdin;
  if (!stdin) throw new UpgradeError("E_RESTORE", `${run.argv[0]} has no stdin`);
  // A tool that exits early closes its stdin: the EPIPE is expected, its exit status says why.
  stdin.on("error", () => undefined);
  const [copied, code] = await Promise.allSettled([
    pipeline(createReadStream(artifact.path, { highWaterMark: 1 << 20 }), counter.stream, stdin),
    exited,
  ]);
  if (code.status === "rejected") throw code.reason;
  if (code.value !== 0) throw run.classify(redactSecrets(stderr.toString().trim(), run.secrets), code.value);
  if (copied.status === "rejected") {
    throw new UpgradeError("E_RESTORE", `reading ${artifact.path} failed: ${(copied.reason as Error).message}`, {
      hint: "check the backup file and restore again",
      cause: copied.reason,
    });
  }
  const { sha256, bytes } = counter.result();
  if (sha256 !== artifact.sha256 || bytes !== artifact.bytes) {
    throw new UpgradeError("E_RESTORE", `backup ${artifact.path} changed while it was being restored`, {
      hint: "something is writing to the backup directory: stop it, then restore again from an intact backup",
      details: { path: artifact.path },
    });
  }
}
