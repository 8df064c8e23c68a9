import { openJournal } from "../journal/open.js";
import { resolveInput, type ConfigInput } from "../session.js";
import { keyOf } from "../session.js";
import { startViewServer, type ViewServer } from "./server.js";

/** Options of `openView()`: where to listen and how often to read the journal. */
export interface OpenViewOptions {
  /** Resolves relative config paths; default `process.cwd()`. */
  cwd?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything else exposes the journal to the network (the token still guards it). */
  host?: string;
  /** Default 500 ms. */
  pollMs?: number;
}

/** The listening and polling options given, without the unset ones (the servers' defaults apply). */
export function serverOptionsOf(options: OpenViewOptions): Pick<OpenViewOptions, "port" | "host" | "pollMs"> {
  return {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  };
}

/**
 * Serves the live view of a config's runs: opens its journal (read only; it never takes the
 * lease, so it can watch a run that another process drives) and starts the page's server.
 * `close()` stops the server and closes the journal.
 */
export async function openView(config: ConfigInput, options: OpenViewOptions = {}): Promise<ViewServer> {
  const resolved = await resolveInput(config, options.cwd);
  const store = await openJournal(resolved.journal, resolved.baseDir);
  try {
    const server = await startViewServer({
      store,
      target: await keyOf(resolved),
      name: resolved.name,
      ...serverOptionsOf(options),
    });
    return {
      ...server,
      async close() {
        await server.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
