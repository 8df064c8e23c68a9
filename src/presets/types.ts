import type { ResolvedConfig } from "../config/types.js";
import type { StepImplementations } from "../steps/types.js";

/**
 * A preset turns a few facts about a well-known service into a general upgrade config, and may
 * replace step effects with ones that know the service.
 */
export interface Preset {
  /**
   * Turns the raw config (`"preset": name` and the preset's own block) into a raw general
   * config, which is then validated and resolved as usual. Relative paths are relative to
   * `baseDir`. Keeps `preset` and sets `presetOptions` (names, never secrets). Throws `E_CONFIG`.
   */
  expand(raw: Record<string, unknown>, baseDir: string): Record<string, unknown>;
  /** Step effects replacing the general ones for configs of this preset (before `options.steps`). */
  steps?(config: ResolvedConfig): Partial<StepImplementations>;
}
