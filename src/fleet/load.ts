import { readFile } from "node:fs/promises";
import { dirname, extname, relative, resolve } from "node:path";
import type { RolloutWave } from "../../machines/index.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { parseDatabaseUrl } from "../url.js";
import { globFiles } from "./glob.js";
import type { FleetConfig, FleetTarget, ResolvedFleet, WaveSpec } from "./types.js";
import { validateFleet } from "./validate.js";

const CODE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];
const LOAD_HINT = "the file must `export default defineFleet({ name, journal, targets, ... })`";

async function readRaw(path: string): Promise<unknown> {
  const ext = extname(path).toLowerCase();
  if (ext === ".json") {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      throw new UpgradeError("E_CONFIG", missing ? `fleet file not found: ${path}` : `cannot read fleet file ${path}`, {
        hint: "pass the path of the fleet file with --fleet, relative to the current directory or absolute",
        cause: err,
      });
    }
    try {
      return JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (err) {
      throw new UpgradeError("E_CONFIG", `invalid JSON in fleet file ${path}: ${(err as Error).message.split("\n")[0]}`, {
        hint: "fix the JSON syntax (double-quoted keys, no trailing commas, no comments), or write the fleet as a .ts file with defineFleet",
      });
    }
  }
  if (!CODE_EXTENSIONS.includes(ext)) {
    throw new UpgradeError("E_CONFIG", `unsupported fleet file extension "${ext}": ${path}`, {
      hint: `use .json or ${CODE_EXTENSIONS.join(", ")}`,
    });
  }
  const { createJiti } = await import("jiti");
  let ns: { default?: unknown };
  try {
    ns = (await createJiti(path, { moduleCache: false, fsCache: false }).import(path)) as { default?: unknown };
  } catch (err) {
    throw new UpgradeError("E_CONFIG", `could not load fleet file ${path}: ${(err as Error).message.split("\n")[0]}`, {
      hint: LOAD_HINT,
      cause: err,
    });
  }
  if (ns?.default === undefined) throw new UpgradeError("E_CONFIG", `fleet file ${path} has no default export`, { hint: LOAD_HINT });
  return typeof ns.default === "function" ? await (ns.default as () => unknown)() : await ns.default;
}

/** The targets of a fleet: each entry's matches sorted, entries in the order given, each file once. */
async function findTargets(patterns: string[], baseDir: string): Promise<FleetTarget[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    const matches = await globFiles(pattern, baseDir);
    if (matches.length === 0) {
      throw new UpgradeError("E_CONFIG", `invalid fleet: targets: ${JSON.stringify(pattern)} matches no file under ${baseDir}`, {
        hint: 'targets are upgrade config files or globs relative to the fleet file, e.g. "./hubs/*/upgrade.json"',
      });
    }
    for (const m of matches) if (!files.includes(m)) files.push(m);
  }
  const dirs = files.map((f) => relative(baseDir, dirname(f)) || ".");
  return files.map((config, i) => ({
    name: dirs.filter((d) => d === dirs[i]).length > 1 ? relative(baseDir, config) : dirs[i]!,
    config,
  }));
}

/**
 * The waves of a rollout: each wave's targets (in order, the first wave's first is the canary)
 * and its failure threshold as a count. Throws E_CONFIG when the waves leave targets out.
 */
export function planWaves(fleet: Pick<ResolvedFleet, "targets" | "waves" | "failureThreshold">): RolloutWave[] {
  const names = fleet.targets.map((t) => t.name);
  const out: RolloutWave[] = [];
  let next = 0;
  for (const w of fleet.waves as WaveSpec[]) {
    if (next >= names.length) break;
    const size = "size" in w ? w.size : "percent" in w ? Math.max(1, Math.ceil((w.percent / 100) * names.length)) : names.length - next;
    const targets = names.slice(next, next + size);
    next += targets.length;
    const t = fleet.failureThreshold;
    out.push({ targets, threshold: "count" in t ? t.count : Math.floor((t.percent / 100) * targets.length) });
  }
  if (next < names.length) {
    throw new UpgradeError("E_CONFIG", `invalid fleet: the waves take ${next} of the ${names.length} targets`, {
      hint: 'end the waves with { "rest": true }, or make them cover every target',
      details: { targets: names.length, covered: next },
    });
  }
  return out;
}

/** Resolves a validated fleet against `baseDir`: targets found, journal parsed, defaults filled in. */
export async function resolveFleet(fleet: FleetConfig, baseDir: string, file: string | null): Promise<ResolvedFleet> {
  const t = fleet.failureThreshold ?? 0;
  const resolved: ResolvedFleet = {
    name: fleet.name,
    file,
    baseDir,
    journal: fleet.journal,
    journalTarget: parseDatabaseUrl(fleet.journal, baseDir),
    targets: await findTargets(fleet.targets, baseDir),
    waves: fleet.waves ?? [{ size: 1 }, { rest: true }],
    maxParallel: fleet.maxParallel ?? 1,
    failureThreshold: typeof t === "number" ? { count: t } : { percent: Number(t.slice(0, -1)) },
    leaseMs: (fleet.leaseSeconds ?? 30) * 1000,
    reconnectMs: (fleet.reconnectSeconds ?? 300) * 1000,
    pauseBetweenWavesMs: (fleet.pauseBetweenWaves ?? 0) * 1000,
    approve: fleet.approve ?? false,
  };
  planWaves(resolved);
  return resolved;
}

/** A fleet file path, a fleet object (targets relative to `cwd`), or a resolved fleet. */
export type FleetInput = string | FleetConfig | ResolvedFleet;

/** Loads (`.json`, or `.ts`/`.js` through jiti), validates and resolves a fleet. Throws E_CONFIG. */
export async function loadFleet(input: FleetInput, cwd = process.cwd()): Promise<ResolvedFleet> {
  if (typeof input !== "string") {
    if ("journalTarget" in input) return input;
    return resolveFleet(validateFleet(input), cwd, null);
  }
  const path = resolve(cwd, input);
  const raw = await readRaw(path);
  try {
    return await resolveFleet(validateFleet(raw), dirname(path), path);
  } catch (err) {
    if (!isUpgradeError(err, "E_CONFIG")) throw err;
    throw new UpgradeError("E_CONFIG", `${path}: ${err.summary}`, { ...(err.hint ? { hint: err.hint } : {}), cause: err });
  }
}
