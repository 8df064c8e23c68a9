import type { PreflightOutput } from "../../steps/outputs.js";

/** What the JupyterHub preflight adds to the general one. */
export interface JupyterHubPreflightOutput extends PreflightOutput {
  /** The Hub as `GET /hub/api/` saw it: its version when it answered, else the status (null: nothing answered). */
  hub: { url: string; version: string | null; status: number | null };
  /** `alembic_version.version_num` before the run (null: no such table). */
  alembicRevision: string | null;
  /** The token may shut the Hub down (checked when the Hub is up and stopped through the API). */
  tokenCanShutdown: boolean | null;
}
