import { UpgradeError } from "../errors.js";

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

/**
 * Polls `url` until it answers the expected status (any 2xx by default) and `accept` agrees,
 * or throws E_HEALTH after `timeoutMs` with the last answer.
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
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
}

/** Waits until nothing answers at `url` (the service is down); E_TIMEOUT otherwise. */
export async function waitDown(url: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while ((await probe(url, 1_000)) !== null) {
    if (Date.now() - started >= timeoutMs) {
      throw new UpgradeError("E_TIMEOUT", `${safeUrl(url)} still answers ${Math.round(timeoutMs / 1000)} s after the stop`, {
        hint: "stop the service by hand or fix the stop command, then run again",
      });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return Date.now() - started;
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
