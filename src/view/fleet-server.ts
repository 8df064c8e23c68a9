import type { FleetStore } from "../fleet/store.js";
import type { ResolvedFleet } from "../fleet/types.js";
import type { JournalStore } from "../journal/types.js";
import { fleetAssets } from "./assets.js";
import { FleetFeed } from "./fleet-feed.js";
import { FleetLive } from "./fleet-live.js";
import { fleetGrid } from "./fleet-page.js";
import { listenView, reply, replyJson, type ListenOptions, type ViewServer } from "./http.js";
import { runRoutes, type RunRoutes } from "./run-routes.js";

/** Options of the fleet page's HTTP server. */
export interface FleetViewServerOptions extends ListenOptions {
  fleet: ResolvedFleet;
  /** The fleet journal (rollouts), read only. */
  fleetStore: FleetStore;
  /** The shared run journal (every target's runs), read only. */
  runStore: JournalStore;
  /** The journal key of each target, by name. */
  keys: ReadonlyMap<string, string>;
  /** The rollout to show; default the newest, followed as new ones start. */
  rolloutId?: string;
  /** How often the journals are read while a page is open; default 500 ms. */
  pollMs?: number;
}

const TARGET_PATH = /^\/target\/([^/]+)(\/.*)$/;

/**
 * Serves the fleet page: `/` (the rollout's waves and targets, rendered), its two assets,
 * `/api/status` (exactly what `fleet status --json` prints), `/events` (server-sent `status`
 * events) and, below `/target/NAME/`, each target's run view (the cells link there). Every
 * request must carry `?token=`; without it the answer is 403.
 */
export async function startFleetViewServer(options: FleetViewServerOptions): Promise<ViewServer> {
  const pollMs = options.pollMs ?? 500;
  const feed = new FleetFeed(options.fleetStore, options.fleet, options.keys, options.rolloutId ?? null);
  const targets = new Map<string, RunRoutes>();
  let live: FleetLive | undefined;
  const routesOf = (name: string, token: string): RunRoutes | undefined => {
    const key = options.keys.get(name);
    if (key === undefined) return undefined;
    let routes = targets.get(name);
    if (!routes) {
      routes = runRoutes({ store: options.runStore, target: key, name: `${options.fleet.name} / ${name}`, token, pollMs });
      targets.set(name, routes);
    }
    return routes;
  };
  return listenView(
    options,
    "open the URL printed by `upgrade-machine fleet view`, token included",
    (token) => {
      const assets = fleetAssets(options.fleet.name, token);
      const feedLive = new FleetLive(feed, token, pollMs);
      live = feedLive;
      return async (path, url, res) => {
        const notFound = () => reply(res, 404, "text/plain; charset=utf-8", "not found\n");
        if (path === "/") {
          const now = await feed.snapshot();
          return reply(
            res,
            200,
            "text/html; charset=utf-8",
            assets.page.replace("__BODY__", () => fleetGrid(now?.status ?? null, token)),
          );
        }
        const asset = assets.files.get(path);
        if (asset) return reply(res, 200, asset.type, asset.body);
        if (path === "/api/status") return replyJson(res, (await feed.snapshot())?.status ?? { rollout: null, state: "none" });
        if (path === "/events") return feedLive.attach(res);
        const target = TARGET_PATH.exec(path);
        const routes = target ? routesOf(decodeURIComponent(target[1]!), token) : undefined;
        if (!routes || !(await routes.handle(target![2]!, url, res))) return notFound();
      };
    },
    () => {
      live?.close();
      for (const r of targets.values()) r.close();
    },
  );
}
