import { UpgradeError, errorRecord } from "../errors.js";
import { DOWN_POLL_MS, probe, safeUrl, sendRequest } from "../process/http.js";
import { terminateRecorded, type Termination } from "../process/group.js";
import { sameProcessAlive } from "../process/identity.js";
import { liveStartedProcess, startRecordPath, type StartRecord } from "../process/start-record.js";
import { commandOutput, runSpec } from "./commands.js";
import type { StopNewVersionOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

/** Seconds a stopped service gets to go away before it is taken to outlive its stop. */
const STOP_WAIT_S = 30;
/** Between SIGTERM and SIGKILL to the process group of a service that outlived its stop. */
const TERM_GRACE_MS = 10_000;

/** True when this run got as far as starting the new version (a `step.started` of start is journaled). */
export function startWasAttempted(ctx: StepContext): boolean {
  return (ctx.run.attempts.start ?? 0) > 0;
}

/** The process a start step of this run recorded, while it may be the service and still runs. */
export function liveStart(ctx: StepContext, step: "start" | "startPrevious" | "restartService"): StartRecord | null {
  return liveStartedProcess(startRecordPath(ctx.config.stateDir, step), ctx.runId);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(DOWN_POLL_MS);
  }
}

/**
 * The first step of the rollback: stops whatever the run started, before anything is restored.
 * Runs when the run got as far as `start` or the service answers at all. The configured stop
 * (command or HTTP; its failure alone is not fatal), then proof that it is down: the health URL
 * refuses connections (any HTTP answer, 503 included, means it runs) and the pid of a service
 * the run started in the foreground is gone; a process that outlives the stop gets SIGTERM,
 * then SIGKILL, to its process group. E_TIMEOUT when it still runs: the run ends `failed` and
 * nothing is restored under it.
 */
export const stopNewVersion: BuiltInStep<"stopNewVersion"> = {
  async skip(ctx) {
    if (startWasAttempted(ctx)) return undefined;
    const health = ctx.config.service?.health;
    if (health && (await probe(health.url)) !== null) return undefined;
    return health ? "the new version was never started and nothing answers" : "the new version was never started";
  },
  async run(ctx) {
    const health = ctx.config.service?.health;
    const recorded = liveStart(ctx, "start");
    const pidAlive = () => recorded !== null && sameProcessAlive(recorded.pid, recorded.startTime);
    let lastStatus: number | null = null;
    const isDown = async () => {
      lastStatus = health ? ((await probe(health.url, 1_000))?.status ?? null) : null;
      return lastStatus === null && !pidAlive();
    };
    // Re-run after a crash, or the new version died on its own: nothing left to stop.
    if (health && (await isDown())) return { stop: "already down", waitedMs: 0, pid: recorded?.pid ?? null, signals: [] };

    const how = ctx.config.service?.stop;
    let stop: StopNewVersionOutput["stop"] = "no service.stop";
    let stopError: { code: string; message: string } | null = null;
    const waitSeconds = how && "http" in how ? (how.waitSeconds ?? STOP_WAIT_S) : STOP_WAIT_S;
    if (how) {
      try {
        if ("http" in how) {
          stop = { status: (await sendRequest({ ...how.http, timeoutMs: (how.http.timeoutSeconds ?? 30) * 1000 })).status };
        } else {
          stop = commandOutput(await runSpec(ctx, how, 120));
        }
      } catch (err) {
        const { code, message } = errorRecord(err);
        stopError = { code, message };
        ctx.log(`the stop failed (${code}: ${message}); checking whether the new version is down anyway`);
      }
    }
    const started = Date.now();
    let down = await waitFor(isDown, how ? waitSeconds * 1000 : 0);
    let termination: Termination | null = null;
    if (!down && recorded && pidAlive()) {
      ctx.log(`process ${recorded.pid} (started by this run) outlived the stop: SIGTERM to its process group, then SIGKILL`);
      termination = await terminateRecorded(recorded.pid, recorded.startTime, TERM_GRACE_MS);
      down = await waitFor(isDown, 5_000);
    }
    if (!down) throw stillRuns(ctx, lastStatus, recorded, pidAlive(), stopError, Date.now() - started);
    if (!health && !recorded && (stopError || !how)) {
      throw new UpgradeError(
        "E_TIMEOUT",
        `nothing proves that the new version is down: ${stopError ? `its stop failed (${stopError.message})` : "no service.stop is configured"} and there is no health URL to ask`,
        {
          hint: "stop the new version by hand before anything is restored, then finish the rollback by hand",
          details: { stopError },
        },
      );
    }
    return { stop, stopError, waitedMs: Date.now() - started, pid: recorded?.pid ?? null, signals: termination?.signals ?? [] };
  },
};

function stillRuns(
  ctx: StepContext,
  status: number | null,
  recorded: StartRecord | null,
  alive: boolean,
  stopError: { message: string } | null,
  waitedMs: number,
): UpgradeError {
  const url = ctx.config.service?.health?.url;
  const why = [
    ...(status !== null && url ? [`${safeUrl(url)} still answers (status ${status})`] : []),
    ...(alive && recorded ? [`process ${recorded.pid} is still alive`] : []),
  ];
  return new UpgradeError(
    "E_TIMEOUT",
    `the new version still runs ${Math.round(waitedMs / 1000)} s after the stop: ${why.join(", ")}${stopError ? `; the stop said: ${stopError.message}` : ""}`,
    {
      hint: "stop it by hand (and make sure the health URL refuses connections) before anything is restored; nothing was restored",
      details: { status, pid: alive ? (recorded?.pid ?? null) : null },
    },
  );
}
