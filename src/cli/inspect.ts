import type { InspectionEvent, Observer } from "xstate";
import { UpgradeError } from "../errors.js";
import { startRelay } from "./inspect-relay.js";
import type { CliIo } from "./io.js";
import { isLoopback } from "./loopback.js";

/** A running inspector: the relay server and the observer to hand to `upgrade()` / `resume()`. */
export interface InspectorSession {
  inspect: Observer<InspectionEvent>;
  /** The page that bridges the relay to Stately's inspector UI, token included. */
  pageUrl: string;
  /** The relay's WebSocket URL, token included (for `createWebSocketReceiver` or your own client). */
  wsUrl: string;
  /** Sends what is still queued, then stops the client and the server. */
  close(): Promise<void>;
}

/** The default port of `@statelyai/inspect`'s server. */
export const INSPECT_PORT = 8080;

async function loadInspect(): Promise<typeof import("@statelyai/inspect")> {
  try {
    return await import("@statelyai/inspect");
  } catch (err) {
    throw new UpgradeError("E_TOOL_MISSING", "`--inspect` needs the optional package @statelyai/inspect", {
      hint: "install it next to upgrade-machine: `npm install @statelyai/inspect`",
      cause: err,
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the relay on `host:port` (default 127.0.0.1, with a random token) and a WebSocket
 * inspector connected to it. Open `pageUrl` in a browser: it embeds Stately's hosted inspector UI
 * (so it needs the internet) and relays the events to it; the relay replays its last 200 events
 * to a page opened late. It is stopped, and every page connected to it cut off, when the run ends.
 */
export async function startInspector(port: number = INSPECT_PORT, host = "127.0.0.1"): Promise<InspectorSession> {
  const { createWebSocketInspector } = await loadInspect();
  const relay = await startRelay({ port, host });
  // On every interface, the run's own client connects through loopback.
  const wildcard = host === "0.0.0.0" || host === "::";
  const inspector = createWebSocketInspector({ url: wildcard ? `ws://127.0.0.1:${relay.port}/?token=${relay.token}` : relay.wsUrl });
  const adapter = inspector.adapter as unknown as { status: string; ws?: { bufferedAmount: number } };
  for (let i = 0; i < 100 && adapter.status !== "open"; i++) await sleep(20);
  return {
    inspect: inspector.inspect,
    pageUrl: relay.pageUrl,
    wsUrl: relay.wsUrl,
    async close() {
      // The inspector converts each event on a timer, then sends it: let both drain.
      await sleep(50);
      for (let i = 0; i < 100 && (adapter.ws?.bufferedAmount ?? 0) > 0; i++) await sleep(20);
      inspector.stop();
      relay.close();
    },
  };
}

/** Runs `command` with an inspector when `--inspect` was given, telling the operator where to look. */
export async function withInspector<T>(
  options: { enabled: boolean; port: number | undefined; host: string | undefined },
  io: CliIo,
  command: (inspect: Observer<InspectionEvent> | undefined) => Promise<T>,
): Promise<T> {
  if (!options.enabled) return command(undefined);
  const host = options.host ?? "127.0.0.1";
  const session = await startInspector(options.port ?? INSPECT_PORT, host);
  io.stderr.write(
    `inspector: open ${session.pageUrl} in a browser to watch the machine in Stately's inspector (needs the internet);\n` +
      `           WebSocket relay at ${session.wsUrl}\n`,
  );
  if (!isLoopback(host)) {
    io.stderr.write(
      `warning: the inspector listens on ${host}, not only this machine; anyone with the URL (token included) can watch the run's events\n`,
    );
  }
  try {
    return await command(session.inspect);
  } finally {
    await session.close();
  }
}
