import { probe, sendRequest, waitDown, waitHealthy } from "../process/http.js";
import { sameProcessAlive } from "../process/identity.js";
import { liveRecordedServices } from "../process/start-record.js";
import { commandOutput, runSpec, startSpec } from "./commands.js";
import { serviceWasRunning } from "./output-of.js";
import type { HealthOutput, StartAgainOutput, StopOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

async function startAndCheck(ctx: StepContext): Promise<StartAgainOutput> {
  const start = ctx.config.service!.start!;
  const started = await startSpec(ctx, start);
  const health = ctx.config.service?.health;
  const healthy = health ? await checkHealth(ctx) : null;
  return { start: started, health: healthy };
}

async function checkHealth(ctx: StepContext): Promise<HealthOutput> {
  const h = ctx.config.service!.health!;
  const res = await waitHealthy(h.url, {
    timeoutMs: (h.timeoutSeconds ?? 30) * 1000,
    ...(h.expectStatus ? { expectStatus: h.expectStatus } : {}),
    signal: ctx.signal,
  });
  return { status: res.status, waitedMs: res.waitedMs };
}

/** The pids the stop waits for: processes earlier runs started as the service, still running now. */
function knownServicePids(ctx: StepContext): { pid: number; startTime: string | null }[] {
  return liveRecordedServices(ctx.config.stateDir).map(({ pid, startTime }) => ({ pid, startTime }));
}

/**
 * Stops the service by command or HTTP request, then waits until it is down: its health URL
 * refuses connections and the process an earlier run started as the service (its pid, when
 * recorded) is gone. Looks every few tens of ms, so the step costs what the stop itself costs.
 */
export const stop: BuiltInStep<"stop"> = {
  skip: (ctx) => {
    if (!ctx.config.service?.stop) return "no service.stop";
    return serviceWasRunning(ctx) ? undefined : "the service was not running";
  },
  async run(ctx) {
    const how = ctx.config.service!.stop!;
    const health = ctx.config.service?.health;
    // Known before the stop: a process that exits during it is still one to wait for (and gone).
    const pids = knownServicePids(ctx);
    const alivePid = () => pids.find((p) => sameProcessAlive(p.pid, p.startTime))?.pid ?? null;
    // Re-run after a crash: a service that no longer answers was stopped by the first attempt.
    if (ctx.attempt > 1 && health && (await probe(health.url)) === null && alivePid() === null)
      return { stop: "already down", waitedMs: 0 };
    let out: StopOutput["stop"];
    let waitSeconds = 30;
    if ("http" in how) {
      const res = await sendRequest({ ...how.http, timeoutMs: (how.http.timeoutSeconds ?? 30) * 1000 });
      out = { status: res.status };
      waitSeconds = how.waitSeconds ?? 30;
    } else {
      out = commandOutput(await runSpec(ctx, how, 120));
    }
    const waitedMs = health || pids.length ? await waitDown(health?.url ?? null, waitSeconds * 1000, { alivePid }) : null;
    return { stop: out, waitedMs };
  },
};

/** Starts the new version, detached from the orchestrator. */
export const start: BuiltInStep<"start"> = {
  skip: (ctx) => (ctx.config.service?.start ? undefined : "no service.start"),
  async run(ctx) {
    return startSpec(ctx, ctx.config.service!.start!);
  },
};

/** Waits until the service's health URL answers healthy. */
export const health: BuiltInStep<"health"> = {
  skip: (ctx) => (ctx.config.service?.health ? undefined : "no service.health"),
  async run(ctx) {
    return checkHealth(ctx);
  },
};

/** After a failed stop or seal: starts the service again (it ran before and nothing changed). */
export const restartService: BuiltInStep<"restartService"> = {
  skip: (ctx) => {
    if (!ctx.config.service?.start) return "no service.start";
    return serviceWasRunning(ctx) ? undefined : "the service was not running before the run; it stays down";
  },
  run: startAndCheck,
};

/** In the rollback: starts the previous version, if the service ran before the run. */
export const startPrevious: BuiltInStep<"startPrevious"> = {
  skip: restartService.skip!,
  run: startAndCheck,
};
