import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** Whether something serves a health URL, and why that was concluded. */
export interface Liveness {
  running: boolean;
  /** The HTTP status when it answered, else null. */
  status: number | null;
  /** A secret-free sentence: "answered 503", "connection refused", ... */
  reason: string;
}

// No TCP connection could be made: nothing listens there.
const NOT_LISTENING = new Set(["ECONNREFUSED"]);

/**
 * Tells whether the service behind `url` runs. Any HTTP answer means it runs, whatever the
 * status (a 503 service is running and must be stopped); so does a connection that was accepted
 * but not answered in time (a hung service), or one that failed after it was made (TLS, reset).
 * Only a refused connection, or one not made within `timeoutMs`, means stopped. Any other
 * failure (a name that does not resolve) counts as running: stopping a stopped service is
 * harmless, skipping the stop of a running one is not.
 */
export function liveness(url: string, timeoutMs = 2_000): Promise<Liveness> {
  return new Promise((resolve) => {
    let connected = false;
    let done = false;
    const finish = (l: Liveness) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(l);
    };
    const u = new URL(url);
    const send = u.protocol === "https:" ? httpsRequest : httpRequest;
    // no agent: a kept-alive socket would count as "connected" for a service that has since stopped
    const req = send(u, { method: "GET", agent: false, headers: { connection: "close" } }, (res) => {
      res.resume();
      finish({ running: true, status: res.statusCode ?? null, reason: `answered ${res.statusCode}` });
    });
    req.on("socket", (socket) => socket.once("connect", () => (connected = true)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (NOT_LISTENING.has(err.code ?? "")) finish({ running: false, status: null, reason: "connection refused" });
      else if (connected) finish({ running: true, status: null, reason: `it accepted the connection, then: ${err.code ?? err.message}` });
      else finish({ running: true, status: null, reason: `cannot tell (${err.code ?? err.message}); taken as running` });
    });
    const timer = setTimeout(() => {
      finish(
        connected
          ? { running: true, status: null, reason: `it accepted the connection but did not answer within ${timeoutMs} ms` }
          : { running: false, status: null, reason: `no connection within ${timeoutMs} ms` },
      );
    }, timeoutMs);
    req.end();
  });
}
