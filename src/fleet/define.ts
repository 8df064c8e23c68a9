import type { FleetConfig } from "./types.js";

/**
 * Declares a fleet with full type checking, for `fleet.ts` files:
 *
 * ```ts
 * import { defineFleet } from "upgrade-machine";
 *
 * export default defineFleet({
 *   name: "hubs",
 *   journal: "postgres://orchestrator@db.internal:5432/upgrades",
 *   targets: ["./hubs/*\/upgrade.json"],
 *   waves: [{ size: 1 }, { percent: 25 }, { rest: true }],
 *   maxParallel: 4,
 * });
 * ```
 *
 * Returns `fleet` unchanged: validation happens when the file is loaded (`loadFleet`).
 */
export function defineFleet(fleet: FleetConfig): FleetConfig {
  return fleet;
}
