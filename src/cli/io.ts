/** Where the CLI writes and what it knows of its environment; tests pass their own. */
export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The real process's streams, environment and working directory. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Exit codes of the CLI, part of its contract. */
export const EXIT = {
  /** Completed, or nothing to do. */
  ok: 0,
  /** Rolled back or aborted: the previous version runs, data as at the restore point. */
  rolledBack: 1,
  /** Usage or configuration error: nothing changed. */
  usage: 2,
  /** Failed: a person is needed. */
  failed: 3,
  /** Busy: another process holds the target, or an unfinished run exists. */
  busy: 4,
} as const;
