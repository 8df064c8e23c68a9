import { NAME_PATTERN, DATABASE_URL_PATTERN } from "../config/shape.js";
import { UpgradeError } from "../errors.js";
import type { FleetConfig } from "./types.js";

/** The keys of a fleet file, and of each wave. */
export const FLEET_KEYS = [
  "$schema",
  "name",
  "journal",
  "targets",
  "waves",
  "maxParallel",
  "failureThreshold",
  "leaseSeconds",
  "reconnectSeconds",
  "pauseBetweenWaves",
  "approve",
] as const;
const WAVE_KEYS = ["size", "percent", "rest"];
const HINT = "fix the fields listed above; every field is documented on FleetConfig (src/fleet/types.ts)";

/** Limits of the numbers of a fleet file. */
export const FLEET_LIMITS = {
  maxParallel: { min: 1, max: 256 },
  leaseSeconds: { min: 2, max: 3600 },
  reconnectSeconds: { min: 0, max: 24 * 3600 },
  pauseBetweenWaves: { min: 0, max: 7 * 24 * 3600 },
  waveSize: { min: 1, max: 100_000 },
} as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, r: { min: number; max: number }) => Number.isInteger(v) && (v as number) >= r.min && (v as number) <= r.max;

function unknownKeys(v: Record<string, unknown>, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key))
      problems.push(`unknown key ${JSON.stringify(key)}${where}; allowed keys: ${allowed.filter((k) => k !== "$schema").join(", ")}`);
  }
}

function wave(v: unknown, i: number, last: boolean, problems: string[]): void {
  const at = `waves[${i}]`;
  if (!isObj(v)) return void problems.push(`${at} must be an object: { "size": N }, { "percent": P } or { "rest": true }`);
  unknownKeys(v, WAVE_KEYS, ` in ${at}`, problems);
  const given = WAVE_KEYS.filter((k) => k in v);
  if (given.length !== 1) return void problems.push(`${at} must have exactly one of size, percent, rest`);
  if ("size" in v && !isInt(v.size, FLEET_LIMITS.waveSize)) problems.push(`${at}.size must be an integer from 1 to 100000`);
  if ("percent" in v && !(typeof v.percent === "number" && v.percent > 0 && v.percent <= 100))
    problems.push(`${at}.percent must be a number above 0 and at most 100`);
  if ("rest" in v) {
    if (v.rest !== true) problems.push(`${at}.rest must be true`);
    else if (!last) problems.push(`${at}: { "rest": true } takes every target left, so it must be the last wave`);
  }
}

function threshold(v: unknown, problems: string[]): void {
  if (v === undefined) return;
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0) problems.push('failureThreshold must be a count (an integer from 0) or a percentage such as "10%"');
    return;
  }
  const m = typeof v === "string" ? /^(\d+(?:\.\d+)?)%$/.exec(v) : null;
  if (!m || Number(m[1]) > 100)
    problems.push(`failureThreshold must be a count (an integer from 0) or a percentage from "0%" to "100%", not ${JSON.stringify(v)}`);
}

/**
 * Validates a raw fleet (parsed JSON, or the default export of a `fleet.ts`) strictly: unknown
 * keys, types and ranges. Every problem is collected and thrown together as one `E_CONFIG`.
 */
export function validateFleet(raw: unknown): FleetConfig {
  const problems: string[] = [];
  if (!isObj(raw)) problems.push("the fleet must be an object");
  else {
    unknownKeys(raw, FLEET_KEYS, "", problems);
    if (typeof raw.name !== "string" || !new RegExp(NAME_PATTERN).test(raw.name))
      problems.push('name is required: letters, digits, ".", "_" and "-" (e.g. "name": "hubs")');
    if (typeof raw.journal !== "string" || !new RegExp(DATABASE_URL_PATTERN).test(raw.journal))
      problems.push('journal is required: the shared PostgreSQL journal, e.g. "postgres://orchestrator@db.internal:5432/upgrades"');
    if (!Array.isArray(raw.targets) || raw.targets.length === 0 || raw.targets.some((t) => typeof t !== "string" || t.trim() === ""))
      problems.push('targets must be a non-empty array of config files or globs, e.g. ["./hubs/*/upgrade.json"]');
    if (raw.waves !== undefined) {
      if (!Array.isArray(raw.waves) || raw.waves.length === 0) problems.push("waves must be a non-empty array");
      else {
        const waves = raw.waves;
        waves.forEach((w, i) => {
          wave(w, i, i === waves.length - 1, problems);
        });
      }
    }
    if (raw.maxParallel !== undefined && !isInt(raw.maxParallel, FLEET_LIMITS.maxParallel))
      problems.push("maxParallel must be an integer from 1 to 256");
    if (raw.leaseSeconds !== undefined && !isInt(raw.leaseSeconds, FLEET_LIMITS.leaseSeconds))
      problems.push("leaseSeconds must be an integer from 2 to 3600");
    if (raw.reconnectSeconds !== undefined && !isInt(raw.reconnectSeconds, FLEET_LIMITS.reconnectSeconds))
      problems.push("reconnectSeconds must be an integer from 0 to 86400 (a day)");
    if (raw.pauseBetweenWaves !== undefined && !isInt(raw.pauseBetweenWaves, FLEET_LIMITS.pauseBetweenWaves))
      problems.push("pauseBetweenWaves must be an integer number of seconds from 0 to 604800 (7 days)");
    if (raw.approve !== undefined && typeof raw.approve !== "boolean") problems.push("approve must be true or false");
    threshold(raw.failureThreshold, problems);
  }
  if (problems.length > 0) {
    const message =
      problems.length === 1
        ? `invalid fleet: ${problems[0]}`
        : `invalid fleet (${problems.length} problems):\n${problems.map((m) => `  - ${m}`).join("\n")}`;
    throw new UpgradeError("E_CONFIG", message, { hint: HINT, details: { problems } });
  }
  return raw as unknown as FleetConfig;
}
