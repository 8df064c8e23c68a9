import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running live view (the run view or the fleet page). */
export interface ViewServer {
  /** The page's URL, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Where a view listens, and its token. */
export interface ListenOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine can connect. */
  host?: string;
  /** The secret in the URL; default 128 random bits. */
  token?: string;
}

/** Answers one request that carried the token; `path` is the URL's path. */
export type ViewHandler = (path: string, url: URL, res: ServerResponse) => Promise<void> | void;

export const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Sends a whole answer with the security headers. */
export function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type });
  res.end(body);
}

/** Sends JSON (a value, or a string already serialised). */
export function replyJson(res: ServerResponse, value: unknown): void {
  reply(res, 200, "application/json; charset=utf-8", typeof value === "string" ? value : JSON.stringify(value));
}

/** Starts a server-sent event stream with the security headers. */
export function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    "content-security-policy": SECURITY_HEADERS["content-security-policy"],
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  res.write(`retry: 1000\n\n`);
}

/** Writes one server-sent event. */
export function sendEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Serves a view: every request must carry `?token=` (else 403) and be a GET (else 405); the rest
 * goes to `handle`. `onClose` runs before the server stops (it ends the event streams).
 */
export async function listenView(
  options: ListenOptions,
  forbidden: string,
  handle: (token: string) => ViewHandler,
  onClose: () => void,
): Promise<ViewServer> {
  const token = options.token ?? randomBytes(16).toString("hex");
  const handler = handle(token);
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://view.invalid");
    if (!tokenMatches(url.searchParams.get("token"), token))
      return reply(res, 403, "text/plain; charset=utf-8", `forbidden: ${forbidden}\n`);
    if (req.method !== "GET") return reply(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    await handler(url.pathname, url, res);
  };
  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, "text/plain; charset=utf-8", `${(err as Error)?.message ?? String(err)}\n`);
      else res.end();
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      onClose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
