import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { CommandSpec, ResolvedConfig } from "../../config/types.js";
import { UpgradeError } from "../../errors.js";
import { redactUrl } from "../../url.js";
import { translateDbUrl } from "./db-url.js";
import { parseJupyterHubOptions } from "./options.js";

/** JupyterHub's own default `db_url`. */
export const DEFAULT_DB_URL = "sqlite:///jupyterhub.sqlite";

/**
 * What the preset's steps need beyond the general config, with defaults applied and paths
 * absolute. Kept in `presetOptions`: names and URLs only, never the API token itself.
 */
export interface JupyterHubSettings {
  hubUrl: string;
  apiTokenEnv: string;
  configFile: string;
  workingDir: string;
  /** `db_url` as written (password redacted), for messages. */
  dbUrl: string;
  /** `db_url` named a relative SQLite path (the wrong-directory trap applies). */
  relativeSqlite: boolean;
  command: string[];
  python: string[] | null;
  stopByCommand: boolean;
  stopUserServers: boolean;
  pidFile: string | null;
  stopTimeoutSeconds: number;
  healthTimeoutSeconds: number;
}

const FILLED = { database: "dbUrl", migrations: "command", service: "start/stop/hubUrl" } as const;

function resolveArgv(argv: string[], baseDir: string): string[] {
  const [program, ...args] = argv;
  return program !== undefined && /^\.\.?\//.test(program) ? [resolve(baseDir, program), ...args] : [...argv];
}

function absoluteCommand<T extends CommandSpec>(spec: T, baseDir: string, defaultCwd: string): T {
  return { ...spec, command: resolveArgv(spec.command, baseDir), cwd: spec.cwd !== undefined ? resolve(baseDir, spec.cwd) : defaultCwd };
}

/**
 * Expands `{"preset": "jupyterhub", "jupyterhub": {...}}` into a general upgrade config: fills
 * `database`, `migrations` (`<command> upgrade-db -f <configFile>`, subcommand first, run in
 * `workingDir`), `files` (the config file and the cookie secret file when there is one),
 * `service` (shutdown through the REST API, the start command, `GET /hub/api/` as health) and
 * `package` defaults (`pip install -U jupyterhub`). Every path comes out absolute. Throws
 * `E_CONFIG` naming the field.
 */
export function expandJupyterHub(raw: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const { jupyterhub: block, presetOptions: _ignored, ...rest } = raw;
  const o = parseJupyterHubOptions(block);
  const clash = Object.entries(FILLED).filter(([key]) => rest[key] !== undefined);
  if (clash.length > 0) {
    const problems = clash.map(([key, instead]) => `${key} is filled in by the jupyterhub preset: set jupyterhub.${instead} instead`);
    throw new UpgradeError("E_CONFIG", `invalid upgrade config: ${problems.join("; ")}`, {
      hint: `remove ${clash.map(([k]) => `"${k}"`).join(", ")} from the config`,
      details: { problems },
    });
  }
  const base = resolve(baseDir);
  const workingDir = resolve(base, o.workingDir ?? ".");
  const configFile = o.configFile !== undefined ? resolve(base, o.configFile) : join(workingDir, "jupyterhub_config.py");
  const db = translateDbUrl(o.dbUrl ?? DEFAULT_DB_URL, workingDir);
  const hubUrl = (o.hubUrl ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
  const command = resolveArgv(o.command ?? ["jupyterhub"], base);
  const cookie = o.cookieSecretFile !== undefined ? resolve(base, o.cookieSecretFile) : join(workingDir, "jupyterhub_cookie_secret");
  const extraFiles = Array.isArray(rest.files) ? rest.files.map((f) => (typeof f === "string" ? resolve(base, f) : f)) : [];
  const servers = o.stopUserServers ?? false;
  const settings: JupyterHubSettings = {
    hubUrl,
    apiTokenEnv: o.apiTokenEnv ?? "JUPYTERHUB_API_TOKEN",
    configFile,
    workingDir,
    dbUrl: redactUrl(o.dbUrl ?? DEFAULT_DB_URL),
    relativeSqlite: db.relativeSqlite,
    command,
    python: o.python ? resolveArgv(o.python, base) : null,
    stopByCommand: o.stop !== undefined,
    stopUserServers: servers,
    pidFile: o.pidFile !== undefined ? resolve(workingDir, o.pidFile) : null,
    stopTimeoutSeconds: o.stopTimeoutSeconds ?? 60,
    healthTimeoutSeconds: o.healthTimeoutSeconds ?? 120,
  };
  const pkg = (rest.package as Record<string, unknown> | undefined) ?? {
    upgrade: { command: ["pip", "install", "-U", "jupyterhub"] },
    downgrade: { command: ["pip", "install", "jupyterhub=={fromVersion}"] },
  };
  return {
    ...rest,
    preset: "jupyterhub",
    presetOptions: settings,
    database: db.url,
    migrations: { command: [...command, "upgrade-db", "-f", configFile], cwd: workingDir },
    files: [configFile, ...(existsSync(cookie) && !extraFiles.includes(cookie) ? [cookie] : []), ...extraFiles],
    service: {
      stop: o.stop
        ? absoluteCommand(o.stop, base, workingDir)
        : {
            http: { method: "POST", url: `${hubUrl}/hub/api/shutdown`, body: { servers, proxy: servers } },
            waitSeconds: settings.stopTimeoutSeconds,
          },
      start: absoluteCommand(o.start, base, workingDir),
      health: { url: `${hubUrl}/hub/api/`, timeoutSeconds: settings.healthTimeoutSeconds },
    },
    package: pkg.version === undefined ? { ...pkg, version: { command: [...command, "--version"] } } : pkg,
  };
}

/** The preset's settings of a resolved config; `E_CONFIG` when they are missing or malformed. */
export function settingsOf(config: ResolvedConfig): JupyterHubSettings {
  const s = config.presetOptions as Partial<JupyterHubSettings> | undefined;
  const ok =
    s !== undefined &&
    typeof s.hubUrl === "string" &&
    typeof s.apiTokenEnv === "string" &&
    typeof s.workingDir === "string" &&
    Array.isArray(s.command) &&
    typeof s.stopTimeoutSeconds === "number" &&
    typeof s.healthTimeoutSeconds === "number";
  if (!ok) {
    throw new UpgradeError("E_CONFIG", `the config of ${config.name} says "preset": "jupyterhub" but has no valid presetOptions`, {
      hint: 'write the preset\'s options in a "jupyterhub" block (the preset fills presetOptions), or build the config with jupyterhub()',
    });
  }
  return s as JupyterHubSettings;
}
