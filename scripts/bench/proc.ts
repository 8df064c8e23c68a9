// Processes and clocks for the benchmark: commands as argv arrays (no shell), timed; the built
// CLI; a tight health poll. Everything the baselines run by hand goes through `run`.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist", "cli.js");

/** Seconds since `t0` (from `performance.now()`). */
export const since = (t0: number): number => (performance.now() - t0) / 1000;

/** Runs a program; resolves with its stdout, rejects with its stderr's tail on a non-zero exit. */
export function run(
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; stdout?: string; okCodes?: number[] } = {},
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const input = options.stdin ? openSync(options.stdin, "r") : "ignore";
    const output = options.stdout ? openSync(options.stdout, "w", 0o600) : "pipe";
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [input, output, "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      for (const fd of [input, output]) if (typeof fd === "number") closeSync(fd);
      if ((options.okCodes ?? [0]).includes(code ?? -1)) resolvePromise(out);
      else reject(new Error(`${argv.join(" ")} exited ${code}: ${err.slice(-2000)}${out.slice(-1000)}`));
    });
  });
}

/** Seconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return since(t0);
}

/** The built CLI in a child process (`run` exits 1 on a rollback: the caller checks the state). */
export function cli(argv: string[], cwd: string): Promise<string> {
  return run([process.execPath, CLI, ...argv], { cwd, okCodes: [0, 1] });
}

/** The events of the latest run of `config`, from `history --json`. */
export async function historyEvents(config: string, cwd: string): Promise<{ type: string; step: string | null; at: string }[]> {
  const out = await cli(["history", "--config", config, "--json"], cwd);
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; step: string | null; at: string });
}

/** Polls `url` every `everyMs` until it answers 2xx (the by-hand "wait healthy"); rejects after `timeoutMs`. */
export async function waitHealthy(url: string, everyMs = 20, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The machine's 1-minute load average, for the report's context. */
export async function loadAverage(): Promise<number> {
  const { loadavg } = await import("node:os");
  return Number(loadavg()[0]!.toFixed(2));
}
