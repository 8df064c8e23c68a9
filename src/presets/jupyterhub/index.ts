/** The JupyterHub preset: `"preset": "jupyterhub"` in a config file, or `jupyterhub()` in code. */
export { jupyterhub, jupyterHubPreset, type JupyterHubUpgrade, type JupyterHubUpgradeOptions } from "./preset.js";
export { parseJupyterHubOptions, type JupyterHubOptions } from "./options.js";
export { expandJupyterHub, type JupyterHubSettings } from "./expand.js";
export { translateDbUrl, type TranslatedDbUrl } from "./db-url.js";
export { readAlembicRevision } from "./alembic.js";
export { jupyterHubSteps } from "./steps.js";
export type { JupyterHubOutputs, JupyterHubPreflightOutput } from "./outputs.js";
