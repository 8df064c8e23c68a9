import type { Json } from "../../../machines/index.js";
import { UpgradeError } from "../../errors.js";
import { json, outputOf, serviceWasRunning } from "../../steps/outputs.js";
import { restoreDatabase as baseRestoreDatabase, verifyRestore as baseVerifyRestore } from "../../steps/restore.js";
import { startPrevious as baseStartPrevious } from "../../steps/service.js";
import type { StepDefinition, StepImplementations } from "../../steps/types.js";
import { readAlembicRevision } from "./alembic.js";
import { settingsOf } from "./expand.js";
import { hubState } from "./hub-api.js";
import { shutDownIfRunning, startHub } from "./hub-control.js";
import type { JupyterHubPreflightOutput } from "./steps.js";

/**
 * Stops a Hub this run started (it must not run on a database being replaced), then the general
 * step restores the restore point and proves it before any Hub writes to it again.
 */
const restoreDatabase: StepDefinition = {
  async run(ctx) {
    const stopped = await shutDownIfRunning(ctx);
    const out = (await baseRestoreDatabase.run(ctx)) as { [key: string]: Json };
    return json({ ...out, stoppedHub: stopped !== null, alembicRevision: await readAlembicRevision(ctx.config.target) });
  },
};

/** Starts the previous version if the Hub ran before the run, and waits for it to answer with that version. */
const startPrevious: StepDefinition = {
  skip: (ctx) => baseStartPrevious.skip?.(ctx),
  async run(ctx) {
    const pre = ctx.run.outputs.preflight as unknown as JupyterHubPreflightOutput | undefined;
    return json(await startHub(ctx, pre?.hub.version ?? ctx.run.fromVersion));
  },
};

/**
 * Proves the rollback: the general proof (restoreDatabase's fingerprint, files, version), then
 * the alembic revision is the one preflight read, and a Hub that ran answers with its old version.
 */
const verifyRestore: StepDefinition = {
  async run(ctx) {
    const s = settingsOf(ctx.config);
    const pre = outputOf<JupyterHubPreflightOutput>(ctx, "preflight");
    const running = serviceWasRunning(ctx);
    const out = (await baseVerifyRestore.run(ctx)) as { [key: string]: Json };
    const revision = await readAlembicRevision(ctx.config.target);
    if (revision !== pre.alembicRevision) {
      throw new UpgradeError("E_VERIFY", `the database is at alembic revision ${revision ?? "(none)"}, not ${pre.alembicRevision ?? "(none)"} as before the run`, {
        hint: "restore the backup by hand (`upgrade-machine backups` lists it)",
      });
    }
    const state = await hubState(s.hubUrl);
    if (running && (!state.up || (pre.hub.version !== null && state.version !== pre.hub.version))) {
      throw new UpgradeError("E_VERIFY", `the Hub does not answer with version ${pre.hub.version ?? "?"} (${state.up ? `it answers ${state.version}` : "it does not answer"})`, {
        hint: "read <stateDir>/logs/service.log and start the Hub by hand",
      });
    }
    if (!running) ctx.log("the Hub was not running before the run: it is left down, with its database as it was before the run");
    return json({ ...out, alembicRevision: revision, hubVersion: state.up ? state.version : null });
  },
};

/** The preset's rollback steps; restoreFiles and reinstallPrevious are the general ones. */
export const jupyterHubRollbackSteps: Pick<StepImplementations, "restoreDatabase" | "startPrevious" | "verifyRestore"> = {
  restoreDatabase,
  startPrevious,
  verifyRestore,
};
