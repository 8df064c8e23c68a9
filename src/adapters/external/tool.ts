import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { UpgradeError } from "../../errors.js";
import { redactSecrets } from "../../url.js";

/** How much of a tool's stderr is kept (the tail), for errors. */
export const STDERR_LIMIT = 4_096;

/**
 * Finds the first of `names` that is an executable file in one of the directories of
 * `searchPath` (PATH syntax; default `process.env.PATH`), in PATH order. An absolute name is
 * checked as it is. Returns undefined when none is found.
 */
export async function findExecutable(
  names: readonly string[],
  searchPath: string | undefined = process.env.PATH,
): Promise<string | undefined> {
  const dirs = (searchPath ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = isAbsolute(name) ? name : join(dir, name);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  for (const name of names) if (isAbsolute(name) && (await isExecutableFile(name))) return name;
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the last `limit` characters of what is appended (a tool's stderr). */
export class TailBuffer {
  private text = "";
  constructor(private readonly limit = STDERR_LIMIT) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

/** Options of `runTool`. */
export interface RunToolOptions {
  /** The environment of the tool (passwords go here, never in argv). */
  env: NodeJS.ProcessEnv;
  /** Values to hide from every message built from the tool's output. */
  secrets: string[];
  timeoutMs?: number;
}

/**
 * Runs a short tool invocation (`pg_dump --version`) and returns its stdout. argv is an array,
 * never a shell string.
 *
 * @throws UpgradeError E_TOOL_MISSING when it cannot be started; E_COMMAND when it fails.
 */
export function runTool(argv: readonly [string, ...string[]], options: RunToolOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv;
    const child = spawn(program, args, { env: options.env, stdio: ["ignore", "pipe", "pipe"], timeout: options.timeoutMs ?? 15_000 });
    let stdout = "";
    const stderr = new TailBuffer();
    child.stdout.on("data", (c: Buffer) => (stdout = (stdout + c.toString()).slice(-65_536)));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    child.on("error", (err) => {
      reject(
        new UpgradeError("E_TOOL_MISSING", `cannot run ${program}: ${err.message}`, {
          hint: `check that ${program} is installed and executable`,
          details: { program },
          cause: err,
        }),
      );
    });
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(stdout);
      const tail = redactSecrets(stderr.toString().trim(), options.secrets);
      reject(
        new UpgradeError("E_COMMAND", `${program} ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${tail}`, {
          hint: `run it by hand to see the whole output`,
          details: { argv: [program, ...args], exitCode: code, signal },
        }),
      );
    });
  });
}

/** Parses the first `major.minor[.patch]` of a version string into numbers; undefined when there is none. */
export function parseVersion(text: string): { major: number; minor: number; text: string } | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), text: m[0] };
}
