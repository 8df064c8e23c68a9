import type { ServerResponse } from "node:http";
import { machineGraph } from "../graph/machine-graph.js";
import type { JournalStore } from "../journal/types.js";
import { viewAssets } from "./assets.js";
import { reply, replyJson } from "./http.js";
import { JournalFeed } from "./journal-feed.js";
import { layoutGraph } from "./layout.js";
import { LiveFeed } from "./live-feed.js";

/** The run view of one target: its page, assets, API and event stream, below any path prefix. */
export interface RunRoutes {
  /** Answers `path` (the part after the prefix); false when it is not one of the run view's. */
  handle(path: string, url: URL, res: ServerResponse): Promise<boolean>;
  /** Ends the event streams. */
  close(): void;
}

/**
 * The run view's routes: the page and its two assets, `/api/graph` (the laid-out machine),
 * `/api/runs`, `/api/run/:id` (rows with durations and outputs) and `/events` (server-sent
 * events; `?run=` pins a run). The page asks for them by relative URLs, so it works below a prefix.
 */
export function runRoutes(options: { store: JournalStore; target: string; name: string; token: string; pollMs: number }): RunRoutes {
  const feed = new JournalFeed(options.store, options.target);
  const live = new LiveFeed(feed, options.pollMs);
  const assets = viewAssets(options.name, options.token);
  const layout = JSON.stringify(layoutGraph(machineGraph()));
  return {
    async handle(path, url, res) {
      const asset = assets.get(path);
      const run = /^\/api\/run\/([^/]+)$/.exec(path);
      if (asset) reply(res, 200, asset.type, asset.body);
      else if (path === "/api/graph") replyJson(res, layout);
      else if (path === "/api/runs") replyJson(res, await feed.runs());
      else if (path === "/events") live.attach(res, url.searchParams.get("run") || null);
      else if (!run) return false;
      else {
        const detail = await feed.run(decodeURIComponent(run[1]!));
        if (detail) replyJson(res, detail);
        else reply(res, 404, "text/plain; charset=utf-8", "no such run\n");
      }
      return true;
    },
    close: () => live.close(),
  };
}
