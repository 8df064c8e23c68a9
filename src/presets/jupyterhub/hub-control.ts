import type { ResolvedCommandSpec } from "../../config/types.js";
import { UpgradeError } from "../../errors.js";
import { commandOutput, runSpec, startSpec } from "../../steps/commands.js";
import type { StartOutcome } from "../../steps/outputs.js";
import type { StepContext } from "../../steps/types.js";
import { installedHead, interpreterOf } from "./alembic.js";
import { settingsOf, type JupyterHubSettings } from "./expand.js";
import { apiToken, hubState, readPid, requestShutdown, waitHubDown, waitHubVersion, waitPidGone } from "./hub-api.js";
import type { HubShutdown, HubStart } from "./outputs.js";

/** How long to let a Hub finish its cleanup when its pid is unknown (no `jupyterhub.pidFile`). */
const SETTLE_MS = 1_000;

/**
 * Stops a running Hub: the stop command, or `POST /hub/api/shutdown` with the token from the
 * environment (never from the config); then waits until the Hub no longer answers and, when
 * its pid file is known, until its process exited (its last database commit is done).
 */
export async function shutDownHub(ctx: StepContext, s: JupyterHubSettings): Promise<HubShutdown> {
  const pid = await readPid(s.pidFile);
  let how: HubShutdown["stop"];
  if (s.stopByCommand) {
    how = commandOutput(await runSpec(ctx, ctx.config.service!.stop as ResolvedCommandSpec, 120));
  } else {
    how = { status: await requestShutdown(s.hubUrl, apiToken(s.apiTokenEnv), s.stopUserServers) };
  }
  const waitedMs = await waitHubDown(s.hubUrl, s.stopTimeoutSeconds * 1000);
  let exitedAfterMs: number | null = null;
  if (pid !== null) {
    exitedAfterMs = await waitPidGone(pid, s.stopTimeoutSeconds * 1000);
  } else {
    if (s.stopUserServers) ctx.log("set jupyterhub.pidFile so the stop waits until the Hub has stopped users' servers and exited");
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  }
  return { stop: how, waitedMs, pid, exitedAfterMs };
}

/** Stops the Hub if it answers (a Hub started by this run, before its database is replaced). */
export async function shutDownIfRunning(ctx: StepContext): Promise<HubShutdown | null> {
  const s = settingsOf(ctx.config);
  const state = await hubState(s.hubUrl);
  if (!state.up) return null;
  ctx.log(`the Hub (version ${state.version}) is running: stopping it before its database is restored`);
  return shutDownHub(ctx, s);
}

/**
 * Starts the Hub unless it already answers (a start repeated after a crash must not launch a
 * second Hub), then waits until `GET /hub/api/` answers with `expected` (any version when null).
 */
export async function startHub(ctx: StepContext, expected: string | null): Promise<HubStart> {
  const s = settingsOf(ctx.config);
  const state = await hubState(s.hubUrl);
  let started: StartOutcome | "already running" = "already running";
  if (state.up) ctx.log(`the Hub already answers (version ${state.version}): not starting another`);
  // Only a Hub answering with its version counts: the proxy alone answers 503 and is no Hub to adopt.
  else started = await startSpec(ctx, ctx.config.service!.start!, { adoptIfAnswers: false });
  const healthy = await waitHubVersion(s.hubUrl, expected, s.healthTimeoutSeconds * 1000, ctx.signal);
  return { start: started, version: healthy.version, waitedMs: healthy.waitedMs };
}

/**
 * The alembic head the installed JupyterHub expects (read with `jupyterhub.python`, or the
 * interpreter of `command`'s `#!` line), or null with a log line when it cannot be read.
 */
export async function expectedHead(ctx: StepContext): Promise<string | null> {
  const s = settingsOf(ctx.config);
  const m = ctx.config.migrations;
  const env = { ...ctx.config.env, ...(m && "command" in m ? m.env : {}) };
  const path = env.PATH ?? process.env.PATH ?? "";
  const python = s.python ?? (s.command[0] !== undefined ? await interpreterOf(s.command[0], path) : null);
  const found = python
    ? await installedHead(python, s.workingDir, env)
    : { head: null, why: `${s.command[0]} is not a Python script (set jupyterhub.python)` };
  if (found.head === null)
    ctx.log(`cannot read the alembic head of the installed JupyterHub (${found.why}); the Hub's own schema check at start is the proof`);
  return found.head;
}

/** The error for a database that is not at the revision JupyterHub expects after `upgrade-db`. */
export function notAtHead(s: JupyterHubSettings, after: string | null, head: string): UpgradeError {
  return new UpgradeError(
    "E_MIGRATION_FAILED",
    `after upgrade-db the database is at alembic revision ${after ?? "(none)"}, but the installed JupyterHub expects ${head}`,
    {
      hint:
        `upgrade-db migrated another database than jupyterhub.dbUrl (${s.dbUrl}): check that it equals c.JupyterHub.db_url in ${s.configFile}` +
        (s.relativeSqlite ? ` and that jupyterhub.workingDir (${s.workingDir}) is the directory the Hub runs in` : ""),
      details: { revision: after, expected: head },
    },
  );
}
