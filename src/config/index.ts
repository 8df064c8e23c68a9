/**
 * The upgrade config: its types (the public config reference), `defineUpgrade` for typed
 * `.ts` configs, strict validation, path resolution, and loading from `.json` / `.ts` files.
 */
export type {
  AnnounceConfig,
  CommandMigrations,
  CommandSpec,
  DrizzleMigrations,
  HttpSpec,
  PackageConfig,
  ResolvedCommandSpec,
  ResolvedConfig,
  ResolvedMigrations,
  ServiceConfig,
  UpgradeConfig,
} from "./types.js";
export { defineUpgrade } from "./define.js";
export { validateConfig } from "./validate.js";
export { resolveConfig } from "./resolve.js";
export { loadConfig } from "./load.js";
