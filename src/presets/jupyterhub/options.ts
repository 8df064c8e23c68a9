import { UpgradeError } from "../../errors.js";
import type { CommandSpec } from "../../config/types.js";

/**
 * The `jupyterhub` block of a config with `"preset": "jupyterhub"`. Paths are relative to the
 * config file's directory (to `baseDir` in code), except `dbUrl`, whose relative SQLite path is
 * relative to `workingDir`, as JupyterHub resolves it.
 */
export interface JupyterHubOptions {
  /** `jupyterhub_config.py`; backed up and passed to `upgrade-db -f`. Default: `<workingDir>/jupyterhub_config.py`. */
  configFile?: string;
  /** JupyterHub's `db_url` in SQLAlchemy form. Default: `sqlite:///jupyterhub.sqlite`. */
  dbUrl?: string;
  /** The directory the Hub runs in (its relative paths start there). Default: the config file's directory. */
  workingDir?: string;
  /** The Hub's public URL (the proxy). Default: `http://127.0.0.1:8000`. */
  hubUrl?: string;
  /** Environment variable holding an API token with the `shutdown` scope. Default: `JUPYTERHUB_API_TOKEN`. */
  apiTokenEnv?: string;
  /** How to invoke JupyterHub for `upgrade-db`, as argv. Default: `["jupyterhub"]`. */
  command?: string[];
  /** Python interpreter of that JupyterHub, to read the alembic head it expects. Default: from `command`'s `#!` line. */
  python?: string[];
  /** Starts the Hub (detached), e.g. `["systemctl", "start", "jupyterhub"]`; `cwd` defaults to `workingDir`. Required. */
  start: CommandSpec & { settleSeconds?: number };
  /** Stops the Hub by command (e.g. `systemctl stop`) instead of `POST /hub/api/shutdown`. */
  stop?: CommandSpec;
  /** The shutdown also stops users' servers and the proxy. Default: false (they survive the upgrade). */
  stopUserServers?: boolean;
  /** JupyterHub's `pid_file`, if configured: the stop then waits for that process to exit. */
  pidFile?: string;
  /** The cookie secret file, backed up when it exists. Default: `<workingDir>/jupyterhub_cookie_secret`. */
  cookieSecretFile?: string;
  /** Seconds to wait for the Hub to stop after the shutdown request. Default: 60. */
  stopTimeoutSeconds?: number;
  /** Seconds to wait for the Hub to answer with the expected version after a start. Default: 120. */
  healthTimeoutSeconds?: number;
}

const KEYS = [
  "configFile",
  "dbUrl",
  "workingDir",
  "hubUrl",
  "apiTokenEnv",
  "command",
  "python",
  "start",
  "stop",
  "stopUserServers",
  "pidFile",
  "cookieSecretFile",
  "stopTimeoutSeconds",
  "healthTimeoutSeconds",
];
const COMMAND_KEYS = ["command", "cwd", "timeoutSeconds", "env"];
const START_EXAMPLE = '"start": {"command": ["systemctl", "start", "jupyterhub"]}';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function argvProblem(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'must be an argv array of strings, e.g. ["jupyterhub"]';
  if (v.length === 0 || v.some((a) => typeof a !== "string" || a === "")) return "must be a non-empty array of non-empty strings";
  return undefined;
}

function commandProblems(v: unknown, path: string, extra: string[] = []): string[] {
  if (!isObj(v)) return [`${path} must be an object like {"command": ["systemctl", "stop", "jupyterhub"]}`];
  const out = Object.keys(v)
    .filter((k) => ![...COMMAND_KEYS, ...extra].includes(k))
    .map((k) => `unknown key "${path}.${k}"`);
  const argv = argvProblem(v.command);
  if (argv) out.push(`${path}.command ${argv}`);
  if (v.cwd !== undefined && typeof v.cwd !== "string") out.push(`${path}.cwd must be a string`);
  for (const k of ["timeoutSeconds", ...extra])
    if (v[k] !== undefined && !(typeof v[k] === "number" && (v[k] as number) >= 0)) out.push(`${path}.${k} must be a non-negative number`);
  if (v.env !== undefined && !(isObj(v.env) && Object.values(v.env).every((s) => typeof s === "string")))
    out.push(`${path}.env must be an object of strings`);
  return out;
}

function httpUrlProblem(v: string): string | undefined {
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") return "must be an http:// or https:// URL";
    if (u.username || u.password || u.search) return "must not carry credentials or a query (the token comes from apiTokenEnv)";
    return undefined;
  } catch {
    return "must be an absolute http:// or https:// URL";
  }
}

/**
 * Validates the `jupyterhub` block strictly; every problem is reported at once as one
 * `E_CONFIG` naming each field (`jupyterhub.hubUrl ...`). Returns the block, typed.
 */
export function parseJupyterHubOptions(raw: unknown, path = "jupyterhub"): JupyterHubOptions {
  const problems: string[] = [];
  if (!isObj(raw)) {
    problems.push(`${path} must be an object with at least ${START_EXAMPLE}`);
  } else {
    for (const key of Object.keys(raw))
      if (!KEYS.includes(key)) problems.push(`unknown key "${path}.${key}"; allowed keys: ${KEYS.join(", ")}`);
    for (const key of ["configFile", "dbUrl", "workingDir", "hubUrl", "apiTokenEnv", "pidFile", "cookieSecretFile"]) {
      const v = raw[key];
      if (v !== undefined && (typeof v !== "string" || v.trim() === "")) problems.push(`${path}.${key} must be a non-empty string`);
    }
    if (typeof raw.hubUrl === "string") {
      const p = httpUrlProblem(raw.hubUrl);
      if (p) problems.push(`${path}.hubUrl ${p}`);
    }
    if (typeof raw.apiTokenEnv === "string" && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.apiTokenEnv)) {
      problems.push(`${path}.apiTokenEnv must be the NAME of an environment variable (the token itself never goes in the config)`);
    }
    for (const key of ["command", "python"]) {
      const p = raw[key] === undefined ? undefined : argvProblem(raw[key]);
      if (p) problems.push(`${path}.${key} ${p}`);
    }
    if (raw.start === undefined) problems.push(`${path}.start is required: how to start the Hub, e.g. ${START_EXAMPLE}`);
    else problems.push(...commandProblems(raw.start, `${path}.start`, ["settleSeconds"]));
    if (raw.stop !== undefined) problems.push(...commandProblems(raw.stop, `${path}.stop`));
    if (raw.stopUserServers !== undefined && typeof raw.stopUserServers !== "boolean")
      problems.push(`${path}.stopUserServers must be true or false`);
    for (const key of ["stopTimeoutSeconds", "healthTimeoutSeconds"]) {
      const v = raw[key];
      if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v > 0))
        problems.push(`${path}.${key} must be a positive number of seconds`);
    }
  }
  if (problems.length > 0) {
    const message = problems.length === 1 ? problems[0] : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
    throw new UpgradeError("E_CONFIG", `invalid upgrade config: ${message}`, {
      hint: `fix the fields listed above; every field of the jupyterhub block is documented on JupyterHubOptions (src/presets/jupyterhub/options.ts)`,
      details: { problems },
    });
  }
  return raw as unknown as JupyterHubOptions;
}
