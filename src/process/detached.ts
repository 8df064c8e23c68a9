import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { UpgradeError } from "../errors.js";
import { expandArgv, type CommandRun } from "./command.js";
import { signalGroup } from "./group.js";

/** What a detached start left: its argv, its pid, and whether it exited (0) within the settle window. */
export interface DetachedStart {
  argv: string[];
  pid: number;
  exited: boolean;
}

/**
 * Starts a command detached from this process (its own session and process group, output
 * appended to `logFile`), so it outlives the orchestrator. `onSpawn` runs at once with the pid,
 * before the settle window (the caller records the process durably there; if it throws, the
 * process group is killed and the start fails). A command that exits within `settleMs` (a
 * `ctl start` that daemonises) must exit 0; one still running then is the service itself.
 */
export function spawnDetached(
  run: CommandRun & { logFile: string; settleMs: number; onSpawn?: (pid: number, argv: string[]) => void },
): Promise<DetachedStart> {
  const argv = expandArgv(run.argv, run.placeholders);
  mkdirSync(dirname(run.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(run.logFile, "a", 0o600);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: run.cwd,
      env: { ...process.env, ...run.env },
      stdio: ["ignore", fd, fd],
      detached: true,
      shell: false,
    });
    closeSync(fd);
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const timer = setTimeout(
      () =>
        finish(() => {
          child.unref();
          resolve({ argv, pid: child.pid ?? -1, exited: false });
        }),
      run.settleMs,
    );
    child.on("error", (err) => {
      finish(() =>
        reject(
          new UpgradeError("E_COMMAND", `cannot start ${argv[0]}: ${err.message}`, { hint: "check the start command's path", cause: err }),
        ),
      );
    });
    child.on("exit", (code) => {
      finish(() => {
        if (code === 0) resolve({ argv, pid: child.pid ?? -1, exited: true });
        else
          reject(
            new UpgradeError("E_COMMAND", `${argv.join(" ")} exited with ${code}`, {
              hint: `read its output in ${run.logFile}`,
              details: { argv, exitCode: code },
            }),
          );
      });
    });
    if (child.pid !== undefined && run.onSpawn) {
      try {
        run.onSpawn(child.pid, argv);
      } catch (err) {
        signalGroup(child.pid, "SIGKILL");
        finish(() =>
          reject(
            new UpgradeError("E_COMMAND", `started ${argv[0]} but could not record it: ${(err as Error).message}`, {
              hint: "check that the state directory is writable; the process was killed",
              cause: err,
            }),
          ),
        );
      }
    }
  });
}
