import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError } from "../errors.js";
import type { StepImplementations } from "../steps/types.js";
import { jupyterHubPreset } from "./jupyterhub/preset.js";
import type { Preset } from "./types.js";

export type { Preset } from "./types.js";

/** Every preset, by the name a config gives in `"preset"`. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  jupyterhub: jupyterHubPreset,
};

function unknownPreset(name: unknown): UpgradeError {
  const known = Object.keys(PRESETS).join(", ");
  return new UpgradeError("E_CONFIG", `invalid upgrade config: unknown preset ${JSON.stringify(name)}; known presets: ${known}`, {
    hint: `set "preset" to one of: ${known} (or remove it and write the general config)`,
    details: { field: "preset", problems: [`preset: unknown preset ${JSON.stringify(name)}`] },
  });
}

/**
 * Expands a raw config that names a preset (`"preset": "jupyterhub"`); any other value is
 * returned as it is. A config already expanded (it has `presetOptions`) is not expanded again.
 */
export function expandPreset(raw: unknown, baseDir: string): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !("preset" in raw)) return raw;
  const obj = raw as Record<string, unknown>;
  const preset = typeof obj.preset === "string" && Object.hasOwn(PRESETS, obj.preset) ? PRESETS[obj.preset] : undefined;
  if (!preset) throw unknownPreset(obj.preset);
  return "presetOptions" in obj ? raw : preset.expand(obj, baseDir);
}

/** The step effects of the config's preset (none without a preset). */
export function presetSteps(config: ResolvedConfig): Partial<StepImplementations> {
  if (config.preset === undefined) return {};
  const preset = Object.hasOwn(PRESETS, config.preset) ? PRESETS[config.preset] : undefined;
  if (!preset) throw unknownPreset(config.preset);
  return preset.steps?.(config) ?? {};
}
