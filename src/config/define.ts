import type { UpgradeConfig } from "./types.js";

/**
 * Declares an upgrade config with full type checking, for `upgrade.config.ts` files:
 *
 * ```ts
 * import { defineUpgrade } from "upgrade-machine";
 *
 * export default defineUpgrade({
 *   name: "blog",
 *   database: "sqlite:./data/blog.sqlite",
 *   migrations: { drizzle: "./drizzle" },
 *   service: { stop: { command: ["./ctl.sh", "stop"] }, start: { command: ["./ctl.sh", "start"] } },
 * });
 * ```
 *
 * Returns `config` unchanged: validation happens when the file is loaded (`loadConfig`).
 */
export function defineUpgrade(config: UpgradeConfig): UpgradeConfig {
  return config;
}
