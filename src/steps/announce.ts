import type { CommandSpec, HttpSpec } from "../config/types.js";
import { UpgradeError } from "../errors.js";
import { sendRequest } from "../process/http.js";
import { commandOutput, runSpec } from "./commands.js";
import { json } from "./outputs.js";
import type { StepContext, StepDefinition } from "./types.js";

async function notify(ctx: StepContext, how: CommandSpec | { http: HttpSpec }) {
  if ("http" in how) {
    const h = how.http;
    const res = await sendRequest({ ...h, timeoutMs: (h.timeoutSeconds ?? 30) * 1000, body: h.body ?? { name: ctx.config.name, fromVersion: ctx.run.fromVersion, toVersion: ctx.run.toVersion } });
    return json({ status: res.status });
  }
  return json(commandOutput(await runSpec(ctx, how, ctx.config.announce?.timeoutSeconds ?? 60)));
}

/** Tells the users about the downtime: `announce.command` and/or `announce.webhook`. */
export const announce: StepDefinition = {
  skip: (ctx) => (ctx.config.announce?.command || ctx.config.announce?.webhook ? undefined : "no announce.command or announce.webhook"),
  async run(ctx) {
    const a = ctx.config.announce!;
    const out: Record<string, unknown> = {};
    if (a.command) out.command = await notify(ctx, { command: a.command });
    if (a.webhook) out.webhook = await notify(ctx, { http: a.webhook });
    return json(out);
  },
};

/**
 * Waits out `announce.graceSeconds`. The deadline is counted from the step's first start, which
 * the journal keeps, so a restart in the middle waits only for what is left.
 */
export const grace: StepDefinition = {
  skip: (ctx) => ((ctx.config.announce?.graceSeconds ?? 0) > 0 ? undefined : "no grace period"),
  async run(ctx) {
    const total = ctx.config.announce!.graceSeconds!;
    const deadline = ctx.firstStartedAt.getTime() + total * 1000;
    for (;;) {
      const left = deadline - Date.now();
      ctx.progress({ unit: "seconds", done: Math.min(total, Math.round(total - left / 1000)), total, message: "grace period" });
      if (left <= 0) break;
      if (ctx.signal.aborted) {
        throw new UpgradeError("E_STEP", "the grace period was interrupted: the run was asked to stop", { hint: "resume the run when ready (`upgrade-machine resume`)" });
      }
      await new Promise((r) => setTimeout(r, Math.min(1_000, left)));
    }
    return json({ deadline: new Date(deadline).toISOString() });
  },
};

/** Withdraws the announcement after an abort; skipped when none was made. */
export const withdrawAnnouncement: StepDefinition = {
  skip: (ctx) => {
    if (!ctx.config.announce?.withdraw) return "no announce.withdraw";
    const announced = ctx.run.outputs.announce !== undefined && ctx.run.skipped.announce === undefined;
    return announced || ctx.run.attempts.announce ? undefined : "nothing was announced";
  },
  async run(ctx) {
    return notify(ctx, ctx.config.announce!.withdraw!);
  },
};
