import type { CommandSpec, HttpSpec } from "../config/types.js";
import { UpgradeError } from "../errors.js";
import { sendRequest } from "../process/http.js";
import { commandOutput, runSpec } from "./commands.js";
import type { AnnounceOutput, CommandRecord, HttpAnswer, NotifyOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

async function post(ctx: StepContext, h: HttpSpec): Promise<HttpAnswer> {
  const res = await sendRequest({
    ...h,
    timeoutMs: (h.timeoutSeconds ?? 30) * 1000,
    body: h.body ?? { name: ctx.config.name, fromVersion: ctx.run.fromVersion, toVersion: ctx.run.toVersion },
  });
  return { status: res.status };
}

async function command(ctx: StepContext, spec: CommandSpec): Promise<CommandRecord> {
  return commandOutput(await runSpec(ctx, spec, ctx.config.announce?.timeoutSeconds ?? 60));
}

function notify(ctx: StepContext, how: CommandSpec | { http: HttpSpec }): Promise<NotifyOutput> {
  return "http" in how ? post(ctx, how.http) : command(ctx, how);
}

/** Tells the users about the downtime: `announce.command` and/or `announce.webhook`. */
export const announce: BuiltInStep<"announce"> = {
  skip: (ctx) => (ctx.config.announce?.command || ctx.config.announce?.webhook ? undefined : "no announce.command or announce.webhook"),
  async run(ctx) {
    const a = ctx.config.announce!;
    const out: AnnounceOutput = {};
    if (a.command) out.command = await command(ctx, { command: a.command });
    if (a.webhook) out.webhook = await post(ctx, a.webhook);
    return out;
  },
};

/**
 * Waits out `announce.graceSeconds`. The deadline is counted from the step's first start, which
 * the journal keeps, so a restart in the middle waits only for what is left.
 */
export const grace: BuiltInStep<"grace"> = {
  skip: (ctx) => ((ctx.config.announce?.graceSeconds ?? 0) > 0 ? undefined : "no grace period"),
  async run(ctx) {
    const total = ctx.config.announce!.graceSeconds!;
    const deadline = ctx.firstStartedAt.getTime() + total * 1000;
    for (;;) {
      const left = deadline - Date.now();
      ctx.progress({ unit: "seconds", done: Math.min(total, Math.round(total - left / 1000)), total, message: "grace period" });
      if (left <= 0) break;
      if (ctx.signal.aborted) {
        throw new UpgradeError("E_STEP", "the grace period was interrupted: the run was asked to stop", {
          hint: "resume the run when ready (`upgrade-machine resume`)",
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(1_000, left)));
    }
    return { deadline: new Date(deadline).toISOString() };
  },
};

/** Withdraws the announcement after an abort; skipped when none was made. */
export const withdrawAnnouncement: BuiltInStep<"withdrawAnnouncement"> = {
  skip: (ctx) => {
    if (!ctx.config.announce?.withdraw) return "no announce.withdraw";
    const announced = ctx.run.outputs.announce !== undefined && ctx.run.skipped.announce === undefined;
    return announced || ctx.run.attempts.announce ? undefined : "nothing was announced";
  },
  async run(ctx) {
    return notify(ctx, ctx.config.announce!.withdraw!);
  },
};
