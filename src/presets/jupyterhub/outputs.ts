import { arrayOf, bool, either, literal, nullable, num, object, str } from "../../steps/json-guard.js";
import {
  commandRecord,
  httpAnswer,
  migrateOutput,
  OUTPUT_GUARDS,
  preflightOutput,
  restoreDatabaseOutput,
  startOutcome,
} from "../../steps/output-guards.js";
import { outputReader, type OutputGuards } from "../../steps/output-of.js";
import type { StepDefinition } from "../../steps/types.js";
import type { StepName } from "../../../machines/index.js";
import type {
  CommandRecord,
  HttpAnswer,
  MigrateOutput,
  PreflightOutput,
  RestoreDatabaseOutput,
  RestoreProof,
  StartOutcome,
  StepOutputs,
  StopOutput,
} from "../../steps/outputs.js";

/** What the JupyterHub preflight adds to the general one. */
export interface JupyterHubPreflightOutput extends PreflightOutput {
  /** The Hub as `GET /hub/api/` saw it: its version when it answered, else the status (null: nothing answered). */
  hub: { url: string; version: string | null; status: number | null };
  /** `alembic_version.version_num` before the run (null: no such table). */
  alembicRevision: string | null;
  /** The token may shut the Hub down (checked when the Hub is up and stopped through the API). */
  tokenCanShutdown: boolean | null;
}

/** A Hub shut down: by its stop command or the API, then gone from the URL and (with a pid file) exited. */
export interface HubShutdown extends StopOutput {
  stop: CommandRecord | HttpAnswer;
  waitedMs: number;
  /** From `jupyterhub.pidFile`, null without one. */
  pid: number | null;
  exitedAfterMs: number | null;
}

/** The Hub started (or found answering), then answering with the expected version. */
export interface HubStart {
  start: "already running" | StartOutcome;
  version: string;
  waitedMs: number;
}

/** migrate: `upgrade-db`'s result, proven by the alembic revision. */
export type JupyterHubMigrateOutput = MigrateOutput & { revisionBefore: string | null; revisionAfter: string; expectedHead: string | null };

/** restoreDatabase: the general restore, plus the alembic revision it holds. */
export interface JupyterHubRestoreDatabaseOutput extends RestoreDatabaseOutput {
  alembicRevision: string | null;
}

/** verifyRestore: the general proof of the data, the alembic revision and the Hub's version. */
export interface JupyterHubVerifyRestoreOutput extends RestoreProof {
  alembicRevision: string | null;
  /** null when no Hub answers (none ran before the run). */
  hubVersion: string | null;
}

/**
 * The JupyterHub preset's outputs: each extends the general one for its step (the compiler
 * checks it), and is what the preset's steps return and read back.
 */
export interface JupyterHubOutputs extends StepOutputs {
  preflight: JupyterHubPreflightOutput;
  stop: StopOutput | HubShutdown;
  migrate: JupyterHubMigrateOutput;
  start: StartOutcome | { start: "already running"; version: string };
  health: { version: string; waitedMs: number; alembicRevision: string | null };
  restartService: HubStart;
  stopNewVersion: { stoppedHub: HubShutdown | null; pid: number | null; signals: string[] };
  restoreDatabase: JupyterHubRestoreDatabaseOutput;
  startPrevious: HubStart;
  verifyRestore: JupyterHubVerifyRestoreOutput;
}

/** A step of the preset: it returns the preset's output for that step, which extends the general one. */
export type HubStep<S extends StepName> = StepDefinition<S, JupyterHubOutputs[S]>;

const revision = nullable(str);

const hubShutdown = object<HubShutdown>({
  stop: either(commandRecord, httpAnswer),
  waitedMs: num,
  pid: nullable(num),
  exitedAfterMs: nullable(num),
});

const hubStart = object<HubStart>({ start: either(literal("already running"), startOutcome), version: str, waitedMs: num });

const alreadyDown = object<StopOutput>({ stop: literal("already down"), waitedMs: nullable(num) });

const migrated = object<{ revisionBefore: string | null; revisionAfter: string; expectedHead: string | null }>({
  revisionBefore: revision,
  revisionAfter: str,
  expectedHead: revision,
});

const hubPreflight = object<Omit<JupyterHubPreflightOutput, keyof PreflightOutput>>({
  hub: object<JupyterHubPreflightOutput["hub"]>({ url: str, version: nullable(str), status: nullable(num) }),
  alembicRevision: revision,
  tokenCanShutdown: nullable(bool),
});

/** The check of every output of a JupyterHub run: the general ones, and the preset's own where it has its own. */
const JUPYTERHUB_GUARDS: OutputGuards<JupyterHubOutputs> = {
  ...OUTPUT_GUARDS,
  preflight: (v, where): v is JupyterHubPreflightOutput => preflightOutput(v, where) && hubPreflight(v, where),
  stop: either(alreadyDown, hubShutdown),
  migrate: (v, where): v is JupyterHubMigrateOutput => migrateOutput(v, where) && migrated(v, where),
  start: either(startOutcome, object<{ start: "already running"; version: string }>({ start: literal("already running"), version: str })),
  health: object<JupyterHubOutputs["health"]>({ version: str, waitedMs: num, alembicRevision: revision }),
  restartService: hubStart,
  stopNewVersion: object<JupyterHubOutputs["stopNewVersion"]>({
    stoppedHub: nullable(hubShutdown),
    pid: nullable(num),
    signals: arrayOf(str),
  }),
  restoreDatabase: (v, where): v is JupyterHubRestoreDatabaseOutput =>
    restoreDatabaseOutput(v, where) && object<{ alembicRevision: string | null }>({ alembicRevision: revision })(v, where),
  startPrevious: hubStart,
  verifyRestore: object<JupyterHubVerifyRestoreOutput>({
    fingerprint: str,
    files: num,
    version: nullable(str),
    alembicRevision: revision,
    hubVersion: nullable(str),
  }),
};

/** The JupyterHub preset's outputs read back, typed by `JupyterHubOutputs` and checked. */
export const { outputOf: hubOutputOf, maybeOutputOf: maybeHubOutputOf } = outputReader<JupyterHubOutputs>(JUPYTERHUB_GUARDS);
