// The health step's wait (src/process/http.ts waitHealthy) against a real HTTP server that turns
// healthy after a while: the wait is downtime, so it probes often enough to end within tens of ms
// of the first healthy answer, not up to a whole slow poll later.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitHealthy } from "../src/process/http.js";

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) await new Promise((r) => s.close(r));
});

/** A server answering 503 until `healthyAfterMs` from now, then 200; its URL and when each request arrived. */
async function startingService(healthyAfterMs: number): Promise<{ url: string; arrivals: number[] }> {
  const healthyAt = Date.now() + healthyAfterMs;
  const arrivals: number[] = [];
  server = createServer((_req, res) => {
    arrivals.push(Date.now());
    res.writeHead(Date.now() >= healthyAt ? 200 : 503).end("x");
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, arrivals };
}

describe("waitHealthy", () => {
  it("probes a starting service every few tens of ms, so the wait ends soon after it turns healthy (a 250 ms poll did not)", async () => {
    const { url, arrivals } = await startingService(800);
    const res = await waitHealthy(url, { timeoutMs: 10_000 });
    expect(res.status).toBe(200);
    // The gaps between probes, as the server saw them: the poll interval plus each probe's own time.
    const gaps = arrivals
      .slice(1)
      .map((t, i) => t - arrivals[i]!)
      .sort((a, b) => a - b);
    expect(gaps.length, "probes while the service started").toBeGreaterThanOrEqual(3);
    expect(gaps[Math.floor(gaps.length / 2)], `median ms between probes (gaps ${gaps.join(", ")})`).toBeLessThan(150);
  });

  it("a service that never turns healthy: E_HEALTH with the last status, after the timeout", async () => {
    const { url } = await startingService(60_000);
    const started = Date.now();
    await expect(waitHealthy(url, { timeoutMs: 400 })).rejects.toMatchObject({ code: "E_HEALTH", details: { lastStatus: 503 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});
