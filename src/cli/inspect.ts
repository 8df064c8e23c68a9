import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer, type Socket } from "node:net";
import type { InspectionEvent, Observer } from "xstate";
import { UpgradeError } from "../errors.js";
import type { CliIo } from "./io.js";

/** A running inspector: the relay server and the observer to hand to `upgrade()` / `resume()`. */
export interface InspectorSession {
  inspect: Observer<InspectionEvent>;
  /** The page that bridges the relay to Stately's inspector UI. */
  pageUrl: string;
  /** The relay's WebSocket URL (for `createWebSocketReceiver` or your own client). */
  wsUrl: string;
  /** Sends what is still queued, then stops the client and the server. */
  close(): Promise<void>;
}

/** The default port of `@statelyai/inspect`'s server. */
export const INSPECT_PORT = 8080;

type InspectModules = [typeof import("@statelyai/inspect/server"), typeof import("@statelyai/inspect")];

async function loadInspect(): Promise<InspectModules> {
  try {
    return await Promise.all([import("@statelyai/inspect/server"), import("@statelyai/inspect")]);
  } catch (err) {
    throw new UpgradeError("E_TOOL_MISSING", "`--inspect` needs the optional package @statelyai/inspect", {
      hint: "install it next to upgrade-machine: `npm install @statelyai/inspect`",
      cause: err,
    });
  }
}

// createInspectorServer emits an unhandled 'error' (and kills the process) when the port is
// taken, so the port is tried first.
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err) =>
      reject(
        new UpgradeError("E_BUSY", `port ${port} for the inspector is not free: ${(err as Error).message}`, {
          hint: "pick another with `--port N`",
        }),
      ),
    );
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `@statelyai/inspect`'s WebSocket server on `port` and a WebSocket inspector connected
 * to it. Open `pageUrl` in a browser: it embeds Stately's hosted inspector UI (so it needs the
 * internet) and relays the events to it; the server replays its last 200 events to a page
 * opened late. Note: that server listens on every interface, not only loopback; it is stopped,
 * and every page connected to it cut off, when the run ends.
 */
export async function startInspector(port: number = INSPECT_PORT): Promise<InspectorSession> {
  const [{ createInspectorServer }, { createWebSocketInspector }] = await loadInspect();
  await assertPortFree(port);
  // The server's stop() leaves open connections open, so a browser tab on the inspector would
  // keep the CLI alive after the run: its sockets are collected here and ended on close.
  const sockets = new Set<Socket>();
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    if (socket.localPort === port) sockets.add(socket.once("close", () => sockets.delete(socket)));
  };
  subscribe("net.server.socket", onSocket);
  const server = createInspectorServer({ port, autoOpen: false });
  const wsUrl = `ws://127.0.0.1:${port}`;
  const inspector = createWebSocketInspector({ url: wsUrl });
  const adapter = inspector.adapter as unknown as { status: string; ws?: { bufferedAmount: number } };
  for (let i = 0; i < 100 && adapter.status !== "open"; i++) await sleep(20);
  return {
    inspect: inspector.inspect,
    pageUrl: `http://localhost:${port}`,
    wsUrl,
    async close() {
      // The inspector converts each event on a timer, then sends it: let both drain.
      await sleep(50);
      for (let i = 0; i < 100 && (adapter.ws?.bufferedAmount ?? 0) > 0; i++) await sleep(20);
      inspector.stop();
      server.stop();
      unsubscribe("net.server.socket", onSocket);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Runs `command` with an inspector when `--inspect` was given, telling the operator where to look. */
export async function withInspector<T>(
  enabled: boolean,
  port: number | undefined,
  io: CliIo,
  command: (inspect: Observer<InspectionEvent> | undefined) => Promise<T>,
): Promise<T> {
  if (!enabled) return command(undefined);
  const session = await startInspector(port ?? INSPECT_PORT);
  io.stderr.write(
    `inspector: open ${session.pageUrl} in a browser to watch the machine in Stately's inspector (needs the internet);\n` +
      `           WebSocket relay at ${session.wsUrl} (it listens on every interface while the run lasts)\n`,
  );
  try {
    return await command(session.inspect);
  } finally {
    await session.close();
  }
}
