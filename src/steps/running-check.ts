import { UpgradeError } from "../errors.js";
import { probe, safeUrl } from "../process/http.js";
import { sameProcessAlive } from "../process/identity.js";
import { readStartRecord, startRecordPath } from "../process/start-record.js";
import { serviceWasRunning } from "./output-of.js";
import type { RunningCheck } from "./outputs.js";
import { liveStart } from "./stop-new-version.js";
import type { StepContext } from "./types.js";

function versionIn(body: string): string | null {
  try {
    const v = (JSON.parse(body) as { version?: unknown } | null)?.version;
    return typeof v === "string" ? v : null;
  } catch {
    return null;
  }
}

/** E_VERIFY when a process the run started as the new version still runs. */
export function assertNewVersionGone(ctx: StepContext): void {
  const left = liveStart(ctx, "start");
  if (left) {
    throw new UpgradeError("E_VERIFY", `the new version's process ${left.pid} (started by this run) still runs`, {
      hint: `stop it (kill ${left.pid}) and check that the previous version is the only one serving`,
      details: { pid: left.pid },
    });
  }
}

/**
 * At the end of a rollback exactly one version runs: the previous one, or none if none ran
 * before the run. The new version's recorded process is gone; a service that did not run before
 * does not answer at all; a restarted one answers healthy, with the previous version when its
 * health answer names one (`{"version": ...}`); without a health URL, the foreground process
 * startPrevious started is still alive (with one, a start command that outlived its settle window
 * and exited since is a launcher: the health answer is the proof). E_VERIFY otherwise.
 */
export async function checkOneVersionRuns(ctx: StepContext): Promise<RunningCheck> {
  assertNewVersionGone(ctx);
  const health = ctx.config.service?.health;
  const answer = health ? await probe(health.url) : null;
  const version = answer ? versionIn(answer.body) : null;
  const out: RunningCheck = { status: answer?.status ?? null, version, pid: null };
  if (health && !serviceWasRunning(ctx)) {
    if (answer) {
      throw new UpgradeError(
        "E_VERIFY",
        `${safeUrl(health.url)} answers (status ${answer.status}${version ? `, version ${version}` : ""}) although the service was not running before the run`,
        {
          hint: "something still runs or was started by another hand: stop it; the previous version is installed and the database restored",
          details: { status: answer.status, version },
        },
      );
    }
    return out;
  }
  if (ctx.run.skipped.startPrevious !== undefined) return out;
  if (health) {
    const healthy = answer && (health.expectStatus ? answer.status === health.expectStatus : answer.status >= 200 && answer.status < 300);
    if (!healthy) {
      throw new UpgradeError(
        "E_VERIFY",
        `the previous version does not answer healthy at ${safeUrl(health.url)} (${answer ? `status ${answer.status}` : "no answer"})`,
        {
          hint: "read <stateDir>/logs/service.log and start the previous version by hand",
          details: { status: answer?.status ?? null },
        },
      );
    }
    const from = ctx.run.fromVersion;
    if (from !== null && version !== null && version !== from) {
      throw new UpgradeError(
        "E_VERIFY",
        `the service answers version ${version}, not the previous version ${from}: another instance serves`,
        {
          hint: "stop every instance of the service, then start the previous version by hand",
          details: { version, expected: from },
        },
      );
    }
  }
  const prev = readStartRecord(startRecordPath(ctx.config.stateDir, "startPrevious"), ctx.runId);
  if (prev && prev.state === "running") {
    if (sameProcessAlive(prev.pid, prev.startTime)) out.pid = prev.pid;
    else if (!health) {
      // Without a health URL, the process is the only evidence that the previous version runs.
      throw new UpgradeError("E_VERIFY", `the previous version's process ${prev.pid} (started by this run) has exited`, {
        hint: "read <stateDir>/logs/service.log and start the previous version by hand",
        details: { pid: prev.pid },
      });
    } else {
      // It outlived the settle window, then exited: a launcher that waits for its daemon (`systemctl
      // start`, a ctl script) on a slow machine. The health URL proved the previous version serves.
      ctx.log(`the start command (pid ${prev.pid}) has exited since its settle window: a launcher; the previous version answers healthy`);
    }
  }
  return out;
}
