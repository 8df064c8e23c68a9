import type { JournalStore } from "../journal/types.js";
import { listenView, reply, type ListenOptions, type ViewServer } from "./http.js";
import { runRoutes, type RunRoutes } from "./run-routes.js";

export type { ViewServer } from "./http.js";

/** Options of the live view's HTTP server. */
export interface ViewServerOptions extends ListenOptions {
  /** The journal to show (read only). */
  store: JournalStore;
  /** The secret-free target id whose runs are shown. */
  target: string;
  /** The config's name, for the page title. */
  name: string;
  /** How often the journal is read while a page is open; default 500 ms. */
  pollMs?: number;
}

/**
 * Serves the live view of one target's runs (see `runRoutes`). Every request must carry
 * `?token=`; without it the answer is 403.
 */
export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
  let routes: RunRoutes | undefined;
  return listenView(
    options,
    "open the URL printed by `upgrade-machine view`, token included",
    (token) => {
      routes = runRoutes({ store: options.store, target: options.target, name: options.name, token, pollMs: options.pollMs ?? 500 });
      return async (path, url, res) => {
        if (!(await routes!.handle(path, url, res))) reply(res, 404, "text/plain; charset=utf-8", "not found\n");
      };
    },
    () => routes?.close(),
  );
}
