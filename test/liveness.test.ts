// Preflight's "does the service run?" against real sockets: any HTTP answer means running, so
// does a connection accepted but not answered; only a refused connection means stopped.
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { liveness } from "../src/process/liveness.js";

const servers: (Server | TcpServer)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen<T extends Server | TcpServer>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("liveness", () => {
  it.each([200, 404, 500, 503])("a service answering %i is running", async (status) => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(status).end("x")));
    expect(await liveness(`http://127.0.0.1:${port}/health`)).toMatchObject({ running: true, status });
  });

  it("a refused connection is stopped", async () => {
    const port = await listen(createTcpServer());
    await new Promise((r) => servers.pop()!.close(r));
    expect(await liveness(`http://127.0.0.1:${port}/health`)).toMatchObject({ running: false, status: null, reason: "connection refused" });
  });

  it("a service that accepts the connection but does not answer (hung) is running", async () => {
    const sockets: import("node:net").Socket[] = [];
    const server = createTcpServer((s) => sockets.push(s));
    const port = await listen(server);
    const started = Date.now();
    const l = await liveness(`http://127.0.0.1:${port}/health`, 500);
    expect(l).toMatchObject({ running: true, status: null });
    expect(l.reason).toContain("did not answer");
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const s of sockets) s.destroy();
  });

  it("a TLS URL on a plain server (a TLS error after the connection) is running", async () => {
    const port = await listen(createHttpServer((_req, res) => res.end("plain")));
    const l = await liveness(`https://127.0.0.1:${port}/health`);
    expect(l.running).toBe(true);
    expect(l.reason).toContain("accepted the connection");
  });
});
