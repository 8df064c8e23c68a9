import { access } from "node:fs/promises";
import { localPathOf } from "../../adapters/registry.js";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import { readVersion, startSpec } from "../../steps/commands.js";
import { migrate as baseMigrate } from "../../steps/migrate.js";
import { rehearse as baseRehearse } from "../../steps/rehearse.js";
import { preflight as basePreflight } from "../../steps/preflight.js";
import { restartService as baseRestartService, start as baseStart, stop as baseStop } from "../../steps/service.js";
import type { StepContext, StepImplementations } from "../../steps/types.js";
import { readAlembicRevision } from "./alembic.js";
import { settingsOf, type JupyterHubSettings } from "./expand.js";
import { apiToken, checkShutdownScope, hubState, waitHubVersion } from "./hub-api.js";
import { expectedHead, notAtHead, shutDownHub, startHub } from "./hub-control.js";
import { maybeHubOutputOf, type HubStep } from "./outputs.js";
import { jupyterHubRollbackSteps } from "./rollback.js";

async function refuseMissingSqlite(ctx: StepContext, s: JupyterHubSettings): Promise<void> {
  const path = await localPathOf(ctx.config.target);
  if (
    path === null ||
    (await access(path).then(
      () => true,
      () => false,
    ))
  )
    return;
  const where = s.relativeSqlite ? `, relative to jupyterhub.workingDir ${s.workingDir}` : "";
  throw new UpgradeError("E_NOT_FOUND", `JupyterHub's database ${path} does not exist (jupyterhub.dbUrl ${s.dbUrl}${where})`, {
    hint: s.relativeSqlite
      ? "a relative sqlite:/// URL is resolved from the directory the Hub runs in: set jupyterhub.workingDir to it (from any other directory `jupyterhub upgrade-db` creates, stamps and 'upgrades' an empty database)"
      : "check jupyterhub.dbUrl against c.JupyterHub.db_url in jupyterhub_config.py",
    details: { path },
  });
}

/**
 * The general preflight, plus: the relative-SQLite trap (a missing file is refused before
 * anything else), the Hub's version from `GET /hub/api/`, the alembic revision, and the token's
 * `shutdown` scope when the Hub is up. A Hub that does not answer is reported as down, so the
 * stop is skipped and a rollback leaves it down. Changes nothing.
 */
const preflight: HubStep<"preflight"> = {
  async run(ctx) {
    const s = settingsOf(ctx.config);
    await refuseMissingSqlite(ctx, s);
    const base = await basePreflight.run(ctx);
    const state = await hubState(s.hubUrl);
    const alembicRevision = await readAlembicRevision(ctx.config.target);
    let tokenCanShutdown: boolean | null = null;
    if (state.up && !s.stopByCommand) {
      await checkShutdownScope(s.hubUrl, apiToken(s.apiTokenEnv));
      tokenCanShutdown = true;
    }
    let fromVersion = base.fromVersion;
    if (state.up) {
      ctx.log(`the Hub runs JupyterHub ${state.version}; its database is at alembic revision ${alembicRevision ?? "(none)"}`);
      if (fromVersion !== null && state.version !== fromVersion) {
        ctx.log(`JupyterHub ${fromVersion} is installed but the Hub still runs ${state.version}: a rollback reinstalls ${state.version}`);
        fromVersion = state.version;
      }
    } else {
      ctx.log(
        `the Hub at ${s.hubUrl} is not running (${state.status === null ? "no answer" : `status ${state.status}`}); ` +
          `if it refuses to start with "Found database schema version ... != ...", JupyterHub was already upgraded: ` +
          `the stop is skipped, the database is backed up and migrated, and a rollback leaves the Hub down`,
      );
    }
    if (alembicRevision === null)
      ctx.log("the database has no alembic_version table (JupyterHub before 0.8?): upgrade-db will guess its revision");
    return {
      ...base,
      fromVersion,
      serviceWasRunning: state.up,
      hub: { url: s.hubUrl, version: state.up ? state.version : null, status: state.up ? 200 : state.status },
      alembicRevision,
      tokenCanShutdown,
    };
  },
};

/** `POST /hub/api/shutdown` (or the stop command), then waits for the Hub to go away. */
const stop: HubStep<"stop"> = {
  skip: (ctx) => baseStop.skip?.(ctx),
  async run(ctx) {
    const s = settingsOf(ctx.config);
    const state = await hubState(s.hubUrl);
    // Re-run after a crash, or a Hub that died since preflight: nothing left to stop.
    if (!state.up) return { stop: "already down", waitedMs: 0 };
    return shutDownHub(ctx, s);
  },
};

/**
 * `<command> upgrade-db -f <config>` in the Hub's working directory (the general migrate step),
 * then proves it: `alembic_version` must be the head the installed JupyterHub expects, so an
 * upgrade-db that migrated another database (wrong directory, other db_url) fails here.
 */
const migrate: HubStep<"migrate"> = {
  async run(ctx) {
    const s = settingsOf(ctx.config);
    const before = await readAlembicRevision(ctx.config.target);
    // Reading the head (a Python start, ~0.5 s) overlaps upgrade-db: it is downtime.
    const [head, out] = await Promise.all([expectedHead(ctx), baseMigrate.run(ctx).catch(explainUpgradeDbFailure)]);
    const after = await readAlembicRevision(ctx.config.target);
    if (head !== null && after !== head) throw notAtHead(s, after, head);
    if (after === null) throw notAtHead(s, after, "a revision");
    ctx.log(before === after ? `alembic revision ${after}: already current` : `alembic revision ${before ?? "(none)"} -> ${after}`);
    return { ...out, revisionBefore: before, revisionAfter: after, expectedHead: head };
  },
};

/**
 * upgrade-db ends its output with alembic's CalledProcessError; the cause is the last Python
 * exception before it (e.g. the migration's own error). Says that one.
 */
function explainUpgradeDbFailure(err: unknown): never {
  if (!isUpgradeError(err, "E_COMMAND") || typeof err.details?.stderr !== "string") throw err;
  const causes = err.details.stderr
    .split("\n")
    .filter((l) => /^[\w.]+(Error|Exception|Exit)\b.*:/.test(l.trim()) && !/CalledProcessError/.test(l));
  const cause = causes.at(-1)?.trim();
  if (cause === undefined) throw err;
  throw new UpgradeError("E_MIGRATION_FAILED", `jupyterhub upgrade-db failed: ${cause.slice(0, 500)}`, {
    hint: "the rollback restores the database from the restore point; the whole output is in `upgrade-machine history`",
    cause: err,
    details: err.details,
  });
}

/**
 * The rehearsal of `upgrade-db`: it needs the NEW JupyterHub, which the preset knows only once
 * package.upgrade installed it, after the stop. So it rehearses only when the config names a
 * staged new JupyterHub to run against the scratch copy (`"rehearse": {"command": [...]}`), and
 * otherwise says it did not rehearse.
 */
const rehearse: HubStep<"rehearse"> = {
  skip(ctx) {
    if (typeof ctx.config.rehearse === "object") return baseRehearse.skip?.(ctx);
    return (
      "not rehearsed: upgrade-db needs the new JupyterHub, which is installed only after the stop; to rehearse, " +
      'stage it and name it: "rehearse": {"command": ["/opt/hub-next/bin/jupyterhub", "upgrade-db", "--db=sqlite:///{databasePath}"]}'
    );
  },
  run: (ctx) => baseRehearse.run(ctx),
};

/** Starts the Hub (the general start), unless it already answers. */
const start: HubStep<"start"> = {
  skip: (ctx) => baseStart.skip?.(ctx),
  async run(ctx) {
    const s = settingsOf(ctx.config);
    const state = await hubState(s.hubUrl);
    if (state.up) {
      ctx.log(`the Hub already answers (version ${state.version}): not starting another`);
      return { start: "already running", version: state.version };
    }
    // A Hub this run's crashed attempt started is adopted; the proxy's answer alone is no Hub.
    return startSpec(ctx, ctx.config.service!.start!, { adoptIfAnswers: false });
  },
};

/** Polls `GET /hub/api/` until it answers with the installed version (a 404 from the proxy first is normal). */
const health: HubStep<"health"> = {
  async run(ctx) {
    const s = settingsOf(ctx.config);
    const expected = (await readVersion(ctx)) ?? ctx.run.toVersion;
    const healthy = await waitHubVersion(s.hubUrl, expected, s.healthTimeoutSeconds * 1000, ctx.signal);
    return { ...healthy, alembicRevision: await readAlembicRevision(ctx.config.target) };
  },
};

/** After a failed stop or seal: the Hub runs again, at the version preflight saw. */
const restartService: HubStep<"restartService"> = {
  skip: (ctx) => baseRestartService.skip?.(ctx),
  async run(ctx) {
    return startHub(ctx, maybeHubOutputOf(ctx.run, "preflight")?.hub.version ?? null);
  },
};

/** The JupyterHub preset's step effects; the other steps are the general ones. */
export const jupyterHubSteps: Partial<StepImplementations> = {
  preflight,
  rehearse,
  stop,
  migrate,
  start,
  health,
  restartService,
  ...jupyterHubRollbackSteps,
};
