import { UpgradeError, errorRecord } from "../../errors.js";
import { serviceWasRunning } from "../../steps/output-of.js";
import { terminateRecorded, waitProcessGone } from "../../process/group.js";
import { proveRestore, restoreDatabase as baseRestoreDatabase } from "../../steps/restore.js";
import { assertNewVersionGone } from "../../steps/running-check.js";
import { liveStart, startWasAttempted } from "../../steps/stop-new-version.js";
import { startPrevious as baseStartPrevious } from "../../steps/service.js";
import type { StepImplementations } from "../../steps/types.js";
import { readAlembicRevision } from "./alembic.js";
import { settingsOf } from "./expand.js";
import { hubState } from "./hub-api.js";
import { shutDownIfRunning, startHub } from "./hub-control.js";
import { hubOutputOf, maybeHubOutputOf, type HubShutdown, type HubStep } from "./outputs.js";

/**
 * The first rollback step: a Hub this run started (or any Hub that answers) is shut down before
 * its database is replaced, the same way the forward stop does it (API or stop command, then the
 * Hub gone and its pid file's process exited); a Hub process this run started in the foreground
 * that outlives the shutdown gets SIGTERM, then SIGKILL, to its process group. Only a Hub that
 * answers with its version counts as up: the proxy alone answers 404 or 503 for the API path.
 */
const stopNewVersion: HubStep<"stopNewVersion"> = {
  async skip(ctx) {
    if (startWasAttempted(ctx)) return undefined;
    const state = await hubState(settingsOf(ctx.config).hubUrl);
    return state.up ? undefined : "the new version was never started and no Hub answers";
  },
  async run(ctx) {
    const s = settingsOf(ctx.config);
    let stopped: HubShutdown | null = null;
    let stopError: unknown = null;
    try {
      stopped = await shutDownIfRunning(ctx);
    } catch (err) {
      stopError = err;
      ctx.log(`the Hub's shutdown failed (${errorRecord(err).message}); checking whether it is down anyway`);
    }
    const recorded = liveStart(ctx, "start");
    let signals: string[] = [];
    if (recorded && !(stopped && (await waitProcessGone(recorded.pid, recorded.startTime, s.stopTimeoutSeconds * 1000)))) {
      ctx.log(`the Hub process ${recorded.pid} (started by this run) outlived the stop: SIGTERM to its process group, then SIGKILL`);
      const t = await terminateRecorded(recorded.pid, recorded.startTime, s.stopTimeoutSeconds * 1000);
      signals = t.signals;
      if (!t.gone) {
        throw new UpgradeError("E_TIMEOUT", `the Hub process ${recorded.pid} is still alive after SIGKILL`, {
          hint: "stop it by hand before anything is restored; nothing was restored",
          details: { pid: recorded.pid },
        });
      }
    }
    const state = await hubState(s.hubUrl);
    if (state.up) {
      if (stopError) throw stopError;
      throw new UpgradeError("E_TIMEOUT", `a Hub (version ${state.version}) still answers at ${s.hubUrl} after the stop`, {
        hint: "stop it by hand before anything is restored; nothing was restored",
        details: { version: state.version },
      });
    }
    return { stoppedHub: stopped, pid: recorded?.pid ?? null, signals };
  },
};

/** The general restore (proved before any Hub writes to the database again), plus the alembic revision it holds. */
const restoreDatabase: HubStep<"restoreDatabase"> = {
  async run(ctx) {
    const out = await baseRestoreDatabase.run(ctx);
    return { ...out, alembicRevision: await readAlembicRevision(ctx.config.target) };
  },
};

/** Starts the previous version if the Hub ran before the run, and waits for it to answer with that version. */
const startPrevious: HubStep<"startPrevious"> = {
  skip: (ctx) => baseStartPrevious.skip?.(ctx),
  async run(ctx) {
    return startHub(ctx, maybeHubOutputOf(ctx.run, "preflight")?.hub.version ?? ctx.run.fromVersion);
  },
};

/**
 * Proves the rollback: the general proof of the data (restoreDatabase's fingerprint, files,
 * version), no process of the new version left, the alembic revision is the one preflight read,
 * a Hub that ran answers with its old version, and none answers when none ran before.
 */
const verifyRestore: HubStep<"verifyRestore"> = {
  async run(ctx) {
    const s = settingsOf(ctx.config);
    const pre = hubOutputOf(ctx, "preflight");
    const running = serviceWasRunning(ctx);
    const out = await proveRestore(ctx);
    assertNewVersionGone(ctx);
    const revision = await readAlembicRevision(ctx.config.target);
    if (revision !== pre.alembicRevision) {
      throw new UpgradeError(
        "E_VERIFY",
        `the database is at alembic revision ${revision ?? "(none)"}, not ${pre.alembicRevision ?? "(none)"} as before the run`,
        {
          hint: "restore the backup by hand (`upgrade-machine backups` lists it)",
        },
      );
    }
    const state = await hubState(s.hubUrl);
    if (running && (!state.up || (pre.hub.version !== null && state.version !== pre.hub.version))) {
      throw new UpgradeError(
        "E_VERIFY",
        `the Hub does not answer with version ${pre.hub.version ?? "?"} (${state.up ? `it answers ${state.version}` : "it does not answer"})`,
        {
          hint: "read <stateDir>/logs/service.log and start the Hub by hand",
        },
      );
    }
    if (!running && state.up) {
      throw new UpgradeError("E_VERIFY", `a Hub (version ${state.version}) answers although none ran before the run`, {
        hint: "stop it by hand: the previous version is installed and the database restored",
      });
    }
    if (!running) ctx.log("the Hub was not running before the run: it is left down, with its database as it was before the run");
    return { ...out, alembicRevision: revision, hubVersion: state.up ? state.version : null };
  },
};

/** The preset's rollback steps; restoreFiles and reinstallPrevious are the general ones. */
export const jupyterHubRollbackSteps: Pick<StepImplementations, "stopNewVersion" | "restoreDatabase" | "startPrevious" | "verifyRestore"> =
  {
    stopNewVersion,
    restoreDatabase,
    startPrevious,
    verifyRestore,
  };
