import type { ResolvedConfig, UpgradeConfig } from "../../config/types.js";
import { validateConfig } from "../../config/validate.js";
import type { StepImplementations } from "../../steps/types.js";
import type { Preset } from "../types.js";
import { expandJupyterHub, settingsOf } from "./expand.js";
import type { JupyterHubOptions } from "./options.js";
import { jupyterHubSteps } from "./steps.js";

/** The `jupyterhub` preset, as the registry knows it. */
export const jupyterHubPreset: Preset = {
  expand: expandJupyterHub,
  steps(config: ResolvedConfig): Partial<StepImplementations> {
    settingsOf(config);
    return jupyterHubSteps;
  },
};

/**
 * The general config keys a JupyterHub upgrade may still set (`database`, `migrations` and
 * `service` are the preset's), plus the `jupyterhub` block.
 */
export type JupyterHubUpgradeOptions = Omit<UpgradeConfig, "database" | "migrations" | "service" | "preset" | "presetOptions"> & {
  jupyterhub: JupyterHubOptions;
};

/** What `jupyterhub()` returns: a general config and the preset's step effects. */
export interface JupyterHubUpgrade {
  /** A general upgrade config (with `preset: "jupyterhub"`): give it to `upgrade()`, `resume()`, `plan()`... */
  config: UpgradeConfig;
  /** The preset's step effects; `upgrade()` applies them on its own for this config. */
  steps: Partial<StepImplementations>;
}

/**
 * Builds a JupyterHub upgrade in code: the same expansion as `"preset": "jupyterhub"` in a
 * config file. Relative paths are resolved against `baseDir` (default: the current directory).
 *
 * ```ts
 * const hub = jupyterhub({
 *   name: "hub",
 *   jupyterhub: { workingDir: "/srv/jupyterhub", start: { command: ["systemctl", "start", "jupyterhub"] } },
 * });
 * const result = await upgrade(hub.config);
 * ```
 *
 * Throws `E_CONFIG` naming the field.
 */
export function jupyterhub(options: JupyterHubUpgradeOptions, baseDir: string = process.cwd()): JupyterHubUpgrade {
  const raw = expandJupyterHub({ ...options, preset: "jupyterhub" } as Record<string, unknown>, baseDir);
  return { config: validateConfig(raw), steps: jupyterHubSteps };
}
