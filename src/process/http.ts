import { UpgradeError } from "../errors.js";
import { liveness } from "./liveness.js";

/** An HTTP request of the config (a stop endpoint, a webhook). */
export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

/** Sends a request; E_HTTP on a network error, a timeout or a status of 400 or more. */
export async function sendRequest(req: HttpRequest): Promise<{ status: number; body: string }> {
  const method = req.method ?? "POST";
  const hasBody = req.body !== undefined && method !== "GET" && method !== "HEAD";
  let res: Response;
  try {
    res = await fetch(req.url, {
      method,
      headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...req.headers },
      ...(hasBody ? { body: typeof req.body === "string" ? req.body : JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(req.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new UpgradeError("E_HTTP", `${method} ${safeUrl(req.url)} failed: ${(err as Error).message}`, {
      hint: "check that the service is reachable at that URL",
      cause: err,
    });
  }
  const body = (await res.text()).slice(0, 2_048);
  if (res.status >= 400) {
    throw new UpgradeError("E_HTTP", `${method} ${safeUrl(req.url)} answered ${res.status}`, {
      hint: res.status === 401 || res.status === 403 ? "check the credentials the request sends" : "check the URL and the service's log",
      details: { status: res.status, body },
    });
  }
  return { status: res.status, body };
}

/** One health probe: the status, or null when nothing answered. */
export async function probe(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: (await res.text()).slice(0, 2_048) };
  } catch {
    return null;
  }
}

/** Between two health probes while a service is starting: the wait ends within tens of ms of it answering. */
export const HEALTH_POLL_MS = 20;
/** After this long without a healthy answer, probes slow down to `HEALTH_SLOW_POLL_MS` (a slow start is not hammered). */
const HEALTH_FAST_FOR_MS = 5_000;
const HEALTH_SLOW_POLL_MS = 250;

/**
 * Polls `url` until it answers the expected status (any 2xx by default) and `accept` agrees,
 * or throws E_HEALTH after `timeoutMs` with the last answer. Probes every `intervalMs`, by
 * default every 20 ms for the first 5 s (the health step is downtime: a 250 ms poll cost
 * 125 ms of it on average), then every 250 ms.
 */
export async function waitHealthy(
  url: string,
  options: { timeoutMs: number; expectStatus?: number; accept?: (body: string) => boolean; intervalMs?: number; signal?: AbortSignal },
): Promise<{ status: number; body: string; waitedMs: number }> {
  const started = Date.now();
  let last: { status: number; body: string } | null = null;
  for (;;) {
    last = await probe(url);
    const statusOk = last && (options.expectStatus ? last.status === options.expectStatus : last.status >= 200 && last.status < 300);
    if (last && statusOk && (!options.accept || options.accept(last.body))) return { ...last, waitedMs: Date.now() - started };
    if (Date.now() - started >= options.timeoutMs || options.signal?.aborted) {
      throw new UpgradeError(
        "E_HEALTH",
        `${safeUrl(url)} was not healthy within ${Math.round(options.timeoutMs / 1000)} s (last: ${last ? `status ${last.status}` : "no answer"})`,
        {
          hint: "read the service's log; the run rolls back on its own",
          details: { lastStatus: last?.status ?? null },
        },
      );
    }
    const waited = Date.now() - started;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? (waited < HEALTH_FAST_FOR_MS ? HEALTH_POLL_MS : HEALTH_SLOW_POLL_MS)));
  }
}

/** Between two looks of a wait for a service to go down: short, so the wait ends within tens of ms of the exit. */
export const DOWN_POLL_MS = 20;
/** Between two looks at a pid once the URL refuses: a look at /proc costs microseconds, an exit is near. */
const PID_POLL_MS = 5;

/**
 * Waits until the service is down: the health URL `url` refuses connections (any HTTP answer,
 * a 503 included, or a hung connection means it still runs; see `liveness`) and `alivePid`
 * names no process still running (a service that closed its listener may still be writing its
 * database). Looks every `DOWN_POLL_MS` (then every 5 ms while only the pid is left), and ends
 * the moment both say down; E_TIMEOUT after `timeoutMs`. Returns the milliseconds waited.
 */
export async function waitDown(url: string | null, timeoutMs: number, options: { alivePid?: () => number | null } = {}): Promise<number> {
  const started = Date.now();
  for (;;) {
    const answers = url ? (await liveness(url, 1_000)).running : false;
    const pid = options.alivePid?.() ?? null;
    if (!answers && pid === null) return Date.now() - started;
    if (Date.now() - started >= timeoutMs) {
      const why = [...(answers && url ? [`${safeUrl(url)} still answers`] : []), ...(pid !== null ? [`process ${pid} still runs`] : [])];
      throw new UpgradeError("E_TIMEOUT", `${why.join(" and ")} ${Math.round(timeoutMs / 1000)} s after the stop`, {
        hint: "stop the service by hand or fix the stop command, then run again",
        details: { pid },
      });
    }
    await new Promise((r) => setTimeout(r, answers ? DOWN_POLL_MS : PID_POLL_MS));
  }
}

/** A URL without its credentials or query string, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid url>";
  }
}
