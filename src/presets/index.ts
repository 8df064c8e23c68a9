/** Presets: configs for well-known services, expanded into general upgrade configs. */
export { PRESETS, expandPreset, presetSteps, type Preset } from "./registry.js";
export { jupyterhub, type JupyterHubOptions, type JupyterHubUpgrade, type JupyterHubUpgradeOptions } from "./jupyterhub/index.js";
