import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo, Socket } from "node:net";
import { UpgradeError } from "../errors.js";

/** What the relay needs of `ws` (the WebSocket server @statelyai/inspect itself depends on). */
interface WsClient {
  readyState: number;
  send(data: string): void;
  on(event: "message", fn: (data: { toString(): string }) => void): void;
  terminate(): void;
}
interface WsServer {
  clients: Set<WsClient>;
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, done: (ws: WsClient) => void): void;
  on(event: "connection", fn: (ws: WsClient) => void): void;
  emit(event: "connection", ws: WsClient, req: IncomingMessage): boolean;
  close(): void;
}
type WsModule = { WebSocketServer: new (options: { noServer: true }) => WsServer; OPEN: number };

/** `ws` as @statelyai/inspect resolves it: its own dependency, wherever npm put it. */
function loadWs(): WsModule {
  try {
    const fromHere = createRequire(import.meta.url);
    return createRequire(fromHere.resolve("@statelyai/inspect"))("ws") as WsModule;
  } catch (err) {
    throw new UpgradeError("E_TOOL_MISSING", "`--inspect` needs the optional package @statelyai/inspect", {
      hint: "install it next to upgrade-machine: `npm install @statelyai/inspect`",
      cause: err,
    });
  }
}

/** Options of the inspector relay. */
export interface RelayOptions {
  port: number;
  /** Default 127.0.0.1: only this machine can connect. */
  host?: string;
  /** The secret every page and WebSocket must carry (`?token=`); default 128 random bits. */
  token?: string;
}

/** A running relay: the page and the WebSocket URL, both with the token. */
export interface Relay {
  pageUrl: string;
  wsUrl: string;
  port: number;
  token: string;
  close(): void;
}

function tokenOf(req: IncomingMessage): string | null {
  return new URL(req.url ?? "/", "http://relay.invalid").searchParams.get("token");
}

function matches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The page: Stately's hosted inspector in a frame, fed with what the relay receives (as @statelyai/inspect's own bridge). */
function bridgePage(wsUrl: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>upgrade-machine: Stately inspector</title>
<style>*{margin:0;padding:0}html,body{height:100%}iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe><script>
const iframe = document.getElementById("inspector"); const buffer = []; let connected = false;
window.addEventListener("message", (e) => { if (e.data && e.data.type === "@statelyai.connected") { connected = true; for (const m of buffer.splice(0)) iframe.contentWindow.postMessage(m, "*"); } });
const ws = new WebSocket(${JSON.stringify(wsUrl)});
ws.onmessage = (event) => { const data = JSON.parse(event.data); if (connected) iframe.contentWindow.postMessage(data, "*"); else buffer.push(data); };
</script></body></html>`;
}

/**
 * The WebSocket relay between the run's inspector and a browser page: what one client sends
 * goes to every other client, and its last 200 messages to one that connects late. It listens on
 * `host` (default loopback only) and answers only a request carrying the token: the page and
 * the WebSocket without it get 403. Its sockets are all ended on close.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { WebSocketServer, OPEN } = loadWs();
  const token = options.token ?? randomBytes(16).toString("hex");
  const host = options.host ?? "127.0.0.1";
  const shown = host.includes(":") ? `[${host}]` : host;
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true });
  const buffer: string[] = [];
  wss.on("connection", (ws) => {
    for (const m of buffer) ws.send(m);
    ws.on("message", (data) => {
      const m = data.toString();
      buffer.push(m);
      if (buffer.length > 200) buffer.shift();
      for (const c of wss.clients) if (c !== ws && c.readyState === OPEN) c.send(m);
    });
  });
  let wsUrl = "";
  const server = createServer((req, res) => {
    if (!matches(tokenOf(req), token)) {
      res
        .writeHead(403, { "content-type": "text/plain; charset=utf-8" })
        .end("forbidden: open the URL printed by upgrade-machine, token included\n");
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "referrer-policy": "no-referrer" });
    res.end(bridgePage(wsUrl));
  });
  server.on("connection", (s: Socket) => sockets.add(s.once("close", () => sockets.delete(s))));
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!matches(tokenOf(req), token)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) =>
      reject(
        new UpgradeError("E_BUSY", `the inspector cannot listen on ${shown}:${options.port}: ${err.message}`, {
          hint: "pick another port with `--port N` (or another address with `--inspect-host`)",
          cause: err,
        }),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  wsUrl = `ws://${shown}:${port}/?token=${token}`;
  return {
    pageUrl: `http://${shown}:${port}/?token=${token}`,
    wsUrl,
    port,
    token,
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
