import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { machineGraph } from "../graph/machine-graph.js";
import type { JournalStore } from "../journal/types.js";
import { viewAssets } from "./assets.js";
import { JournalFeed } from "./journal-feed.js";
import { layoutGraph } from "./layout.js";
import { LiveFeed } from "./live-feed.js";

/** Options of the live view's HTTP server. */
export interface ViewServerOptions {
  /** The journal to show (read only). */
  store: JournalStore;
  /** The secret-free target id whose runs are shown. */
  target: string;
  /** The config's name, for the page title. */
  name: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine can connect. */
  host?: string;
  /** How often the journal is read while a page is open; default 500 ms. */
  pollMs?: number;
  /** The secret in the URL; default 128 random bits. */
  token?: string;
}

/** A running live view. */
export interface ViewServer {
  /** The page's URL, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Serves the live view: the page and its two assets, `/api/graph` (the laid-out machine),
 * `/api/runs`, `/api/run/:id` (rows with durations and outputs) and `/events` (server-sent
 * events). Every request must carry `?token=`; without it the answer is 403.
 */
export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
  const token = options.token ?? randomBytes(16).toString("hex");
  const feed = new JournalFeed(options.store, options.target);
  const live = new LiveFeed(feed, options.pollMs ?? 500);
  const assets = viewAssets(options.name, token);
  const layout = JSON.stringify(layoutGraph(machineGraph()));

  const reply = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type });
    res.end(body);
  };
  const json = (res: ServerResponse, value: unknown) =>
    reply(res, 200, "application/json; charset=utf-8", typeof value === "string" ? value : JSON.stringify(value));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://view.invalid");
    if (!tokenMatches(url.searchParams.get("token"), token))
      return reply(res, 403, "text/plain; charset=utf-8", "forbidden: open the URL printed by `upgrade-machine view`, token included\n");
    if (req.method !== "GET") return reply(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    const path = url.pathname;
    const asset = assets.get(path);
    if (asset) return reply(res, 200, asset.type, asset.body);
    if (path === "/api/graph") return json(res, layout);
    if (path === "/api/runs") return json(res, await feed.runs());
    const run = /^\/api\/run\/([^/]+)$/.exec(path);
    if (run) {
      const detail = await feed.run(decodeURIComponent(run[1]!));
      return detail ? json(res, detail) : reply(res, 404, "text/plain; charset=utf-8", "no such run\n");
    }
    if (path === "/events") {
      res.setHeader("content-security-policy", SECURITY_HEADERS["content-security-policy"]);
      return live.attach(res, url.searchParams.get("run") || null);
    }
    return reply(res, 404, "text/plain; charset=utf-8", "not found\n");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
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
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
