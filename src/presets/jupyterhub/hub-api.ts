import { readFile } from "node:fs/promises";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import { DOWN_POLL_MS, probe, sendRequest, waitHealthy } from "../../process/http.js";

/** What `GET /hub/api/` said: the Hub's version, or why it is not up. */
export type HubState = { up: true; version: string } | { up: false; status: number | null };

function versionOf(body: string): string | null {
  try {
    const v = (JSON.parse(body) as { version?: unknown }).version;
    return typeof v === "string" ? v : null;
  } catch {
    return null;
  }
}

/**
 * Asks the Hub for its version (`GET /hub/api/`, no token needed). Only a 200 with a JSON
 * `version` counts as up: the proxy alone answers 404 or 503 for that path.
 */
export async function hubState(hubUrl: string): Promise<HubState> {
  const answer = await probe(`${hubUrl}/hub/api/`);
  const version = answer?.status === 200 ? versionOf(answer.body) : null;
  return version !== null ? { up: true, version } : { up: false, status: answer?.status ?? null };
}

/** The API token from its environment variable; `E_CONFIG` (naming the variable, never a value) when unset. */
export function apiToken(envName: string): string {
  const token = process.env[envName];
  if (!token) {
    throw new UpgradeError("E_CONFIG", `the environment variable ${envName} (jupyterhub.apiTokenEnv) is not set`, {
      hint: `export ${envName}=<a token with the shutdown scope>, e.g. of a service with the admin role in c.JupyterHub.load_roles`,
    });
  }
  return token;
}

const auth = (token: string) => ({ authorization: `token ${token}` });

/** Checks that the token may shut the Hub down (`GET /hub/api/user`: its scopes, or admin on JupyterHub 1.x). */
export async function checkShutdownScope(hubUrl: string, token: string): Promise<string[] | null> {
  let body: string;
  try {
    body = (await sendRequest({ method: "GET", url: `${hubUrl}/hub/api/user`, headers: auth(token), timeoutMs: 10_000 })).body;
  } catch (err) {
    const status = isUpgradeError(err) ? (err.details?.status as number | undefined) : undefined;
    if (status === 401 || status === 403) {
      throw new UpgradeError("E_AUTH", `the Hub refused the API token (status ${status})`, {
        hint: "check the token in jupyterhub.apiTokenEnv: it must belong to a user or service of this Hub",
        cause: err,
      });
    }
    throw err;
  }
  const who = JSON.parse(body) as { scopes?: unknown; admin?: unknown; name?: unknown };
  const scopes = Array.isArray(who.scopes) ? who.scopes.filter((s): s is string => typeof s === "string") : null;
  const allowed = scopes ? scopes.includes("shutdown") : who.admin === true;
  if (!allowed) {
    throw new UpgradeError("E_AUTH", `the API token of ${String(who.name ?? "?")} lacks the "shutdown" scope`, {
      hint: 'grant it, e.g. c.JupyterHub.load_roles = [{"name": "upgrader", "scopes": ["shutdown", "read:hub"], "services": ["upgrader"]}]',
    });
  }
  return scopes;
}

/** `POST /hub/api/shutdown`; users' servers and the proxy keep running unless `stopServers`. */
export async function requestShutdown(hubUrl: string, token: string, stopServers: boolean): Promise<number> {
  const body = { servers: stopServers, proxy: stopServers };
  const res = await sendRequest({ method: "POST", url: `${hubUrl}/hub/api/shutdown`, headers: auth(token), body, timeoutMs: 30_000 });
  return res.status;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the Hub no longer answers with its version (the proxy may still answer 503). */
export async function waitHubDown(hubUrl: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while ((await hubState(hubUrl)).up) {
    if (Date.now() - started >= timeoutMs) {
      throw new UpgradeError("E_TIMEOUT", `the Hub at ${hubUrl} still answers ${Math.round(timeoutMs / 1000)} s after the shutdown`, {
        hint: "stop the Hub by hand (or raise jupyterhub.stopTimeoutSeconds), then resume",
      });
    }
    await sleep(DOWN_POLL_MS);
  }
  return Date.now() - started;
}

/** The pid in JupyterHub's `pid_file`, or null when there is none. */
export async function readPid(pidFile: string | null): Promise<number | null> {
  if (!pidFile) return null;
  const text = await readFile(pidFile, "utf8").catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits until process `pid` has exited: the Hub's cleanup (its last database commit) is over. */
export async function waitPidGone(pid: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (alive(pid)) {
    if (Date.now() - started >= timeoutMs) {
      throw new UpgradeError("E_TIMEOUT", `the Hub process ${pid} is still running ${Math.round(timeoutMs / 1000)} s after the shutdown`, {
        hint: "it may still be stopping users' servers; wait for it or stop it by hand, then resume",
      });
    }
    await sleep(DOWN_POLL_MS);
  }
  return Date.now() - started;
}

/**
 * Polls `GET /hub/api/` until it answers 200 with `version` equal to `expected` (any version
 * when null). The proxy answers 404 for about a second before the Hub registers: keep polling.
 */
export async function waitHubVersion(
  hubUrl: string,
  expected: string | null,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ version: string; waitedMs: number }> {
  try {
    const res = await waitHealthy(`${hubUrl}/hub/api/`, {
      timeoutMs,
      expectStatus: 200,
      accept: (body) => {
        const v = versionOf(body);
        return v !== null && (expected === null || v === expected);
      },
      ...(signal ? { signal } : {}),
    });
    return { version: versionOf(res.body) ?? "", waitedMs: res.waitedMs };
  } catch (err) {
    if (!isUpgradeError(err, "E_HEALTH")) throw err;
    const now = await hubState(hubUrl);
    const seen = now.up ? `it answers version ${now.version}` : `last status ${now.status ?? "none"}`;
    throw new UpgradeError(
      "E_HEALTH",
      `the Hub at ${hubUrl} did not answer${expected ? ` with version ${expected}` : ""} within ${Math.round(timeoutMs / 1000)} s (${seen})`,
      {
        hint: "read the Hub's log (a start command's output is in <stateDir>/logs/service.log); the run rolls back on its own",
        cause: err,
        details: { expected, seen },
      },
    );
  }
}
