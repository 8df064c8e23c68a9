import { spawn } from "node:child_process";
import { UpgradeError } from "../errors.js";
import { checkPlaceholderVersion } from "../versions.js";
import { MAX_TIMEOUT_MS, terminateGroup, trackGroup } from "./group.js";

/** How much of a command's output is kept (the tail), for the journal and errors. */
export const OUTPUT_LIMIT = 4_096;

/** Values for `{fromVersion}` and `{toVersion}` (and any other `{name}`) in argv. */
export type Placeholders = Record<string, string | null | undefined>;

/** One command: an argv array, never a shell string. */
export interface CommandRun {
  argv: readonly string[];
  cwd: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  placeholders?: Placeholders;
  signal?: AbortSignal;
}

/** What a finished command left: its exit code and the tails of its output. */
export interface CommandResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Replaces `{name}` in every argument; E_CONFIG when a placeholder has no value, E_VERSION when
 * `{fromVersion}`/`{toVersion}` is not a version (a run journaled before versions were checked).
 */
export function expandArgv(argv: readonly string[], placeholders: Placeholders = {}): string[] {
  return argv.map((arg) =>
    arg.replace(/\{(\w+)\}/g, (whole, name: string) => {
      if (!(name in placeholders)) return whole;
      const value = placeholders[name];
      if (value === null || value === undefined || value === "") {
        throw new UpgradeError("E_CONFIG", `the command ${JSON.stringify(argv)} needs {${name}}, which is not known for this run`, {
          hint:
            name === "toVersion"
              ? "pass the version to install with `--to VERSION`"
              : "configure `package.version` so preflight can read the installed version",
        });
      }
      if (name === "fromVersion" || name === "toVersion") checkPlaceholderVersion(name, value);
      return value;
    }),
  );
}

function tail(text: string): string {
  return text.length > OUTPUT_LIMIT ? `…${text.slice(-OUTPUT_LIMIT)}` : text;
}

function checkTimeout(argv: string[], timeoutMs: number | undefined): void {
  if (timeoutMs === undefined || (Number.isFinite(timeoutMs) && timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) return;
  throw new UpgradeError("E_CONFIG", `the timeout of ${argv.join(" ")} must be from 0 to ${MAX_TIMEOUT_MS} ms (7 days), not ${timeoutMs}`, {
    hint: "set its timeoutSeconds to at most 604800",
  });
}

/**
 * Runs a command without a shell, in its own process group, keeping the tails of stdout and
 * stderr. Resolves with the result whatever the exit code. When `timeoutMs` passes (0: never) or
 * `signal` aborts, the whole group gets SIGTERM, then SIGKILL after {@link KILL_GRACE_MS}, and the
 * promise rejects (E_TIMEOUT, or E_COMMAND when aborted) as soon as no process of the group is
 * left, even if something outside the group still holds the output pipes.
 */
export function runCommand(run: CommandRun): Promise<CommandResult> {
  const argv = expandArgv(run.argv, run.placeholders);
  checkTimeout(argv, run.timeoutMs);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(interrupted(argv, "", ""));
    // detached: its own process group (and session), so a timeout can end its children too
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: run.cwd,
      env: { ...process.env, ...run.env },
      stdio: ["ignore", "pipe", "pipe"],
      shell: false,
      detached: true,
    });
    const untrack = child.pid !== undefined ? trackGroup(child.pid) : () => undefined;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout = tail(stdout + d.toString())));
    child.stderr.on("data", (d: Buffer) => (stderr = tail(stderr + d.toString())));
    let ending: "timeout" | "abort" | null = null;
    let settled = false;
    let exitCode: number | null = null;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onAbort);
      untrack();
      fn();
    };
    const end = (why: "timeout" | "abort") => {
      if (ending || settled || child.pid === undefined) return;
      ending = why;
      void terminateGroup(child.pid).then(({ survived }) => {
        // a process outside the group (setsid) may still hold the pipes: stop reading them
        child.stdout.destroy();
        child.stderr.destroy();
        settle(() =>
          reject(
            why === "timeout" ? timedOut(argv, run.timeoutMs!, stdout, stderr, exitCode, survived) : interrupted(argv, stdout, stderr),
          ),
        );
      });
    };
    const timer = run.timeoutMs ? setTimeout(() => end("timeout"), run.timeoutMs) : undefined;
    const onAbort = () => end("abort");
    run.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err: NodeJS.ErrnoException) => {
      settle(() =>
        reject(
          new UpgradeError("E_COMMAND", `cannot run ${argv[0]}: ${err.code === "ENOENT" ? "no such program" : err.message}`, {
            hint:
              err.code === "ENOENT"
                ? `check the path of ${JSON.stringify(argv[0])} (relative paths are relative to the config file)`
                : "check the command",
            cause: err,
          }),
        ),
      );
    });
    child.on("exit", (code) => (exitCode = code));
    child.on("close", (code) => {
      if (ending) return; // end() settles once the group is gone
      settle(() => resolve({ argv, exitCode: code ?? 128, stdout, stderr, durationMs: Date.now() - started }));
    });
  });
}

function timedOut(
  argv: string[],
  timeoutMs: number,
  stdout: string,
  stderr: string,
  exitCode: number | null,
  survived: boolean,
): UpgradeError {
  return new UpgradeError(
    "E_TIMEOUT",
    `${argv.join(" ")} did not finish within ${timeoutMs} ms; its process group was ${survived ? "sent SIGKILL, but a process survived it" : "ended"}`,
    {
      hint: "raise its timeoutSeconds or find out why it hangs",
      details: { argv, stdout, stderr, exitCode, survived },
    },
  );
}

function interrupted(argv: string[], stdout: string, stderr: string): UpgradeError {
  return new UpgradeError("E_COMMAND", `${argv.join(" ")} was interrupted: the run was asked to stop, and its process group was ended`, {
    hint: "resume the run when ready (`upgrade-machine resume`)",
    details: { argv, stdout, stderr },
  });
}

/** Runs a command and throws E_COMMAND (with the output tails) when it exits non-zero. */
export async function runChecked(run: CommandRun): Promise<CommandResult> {
  const result = await runCommand(run);
  if (result.exitCode !== 0) {
    const said = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new UpgradeError("E_COMMAND", `${result.argv.join(" ")} exited with ${result.exitCode}${said ? `: ${said}` : ""}`, {
      hint: "read the command's output in `upgrade-machine history`, fix the cause, then run again",
      details: { argv: result.argv, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr },
    });
  }
  return result;
}
