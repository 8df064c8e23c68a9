import type { ServerResponse } from "node:http";
import { errorRecord } from "../errors.js";
import { sendEvent as send, startStream } from "./http.js";
import type { JournalFeed } from "./journal-feed.js";

interface Client {
  res: ServerResponse;
  /** The run this page shows; null follows the newest run. */
  pinned: string | null;
  shown: { runId: string; count: number; head: string | null } | null;
  runsKey: string | null;
}

/**
 * Server-sent events for the live view. One poller reads the journal every `pollMs` while at
 * least one page is connected, and sends each page what changed: `run` (the whole run, on
 * connect or when a newer run starts), `append` (new rows), `runs` (the list) or `problem`.
 */
export class LiveFeed {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly feed: JournalFeed,
    private readonly pollMs: number,
  ) {}

  /** Starts streaming to a page; the stream ends when the page goes away. */
  attach(res: ServerResponse, pinned: string | null): void {
    startStream(res);
    const client: Client = { res, pinned, shown: null, runsKey: null };
    this.clients.add(client);
    res.on("close", () => {
      this.clients.delete(client);
      if (!this.clients.size) this.stop();
    });
    void this.update([client]);
    this.timer ??= setInterval(() => void this.update([...this.clients]), this.pollMs);
  }

  /** Ends every stream and the poller. */
  close(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async update(clients: Client[]): Promise<void> {
    if (this.busy || !clients.length) return;
    this.busy = true;
    try {
      const runs = await this.feed.runs();
      const runsKey = runs.map((r) => `${r.runId}:${r.state}:${r.eventCount}`).join(",");
      for (const c of clients) {
        if (c.runsKey !== runsKey) send(c.res, "runs", runs);
        c.runsKey = runsKey;
        const runId = c.pinned ?? runs[0]?.runId ?? null;
        if (!runId) continue;
        const detail = await this.feed.run(runId);
        if (!detail) continue;
        const { eventCount: count, head } = detail.run;
        if (c.shown?.runId !== runId || count < c.shown.count) {
          send(c.res, "run", detail);
        } else if (count > c.shown.count || head !== c.shown.head) {
          send(c.res, "append", { run: detail.run, rows: detail.rows.slice(c.shown.count) });
        }
        c.shown = { runId, count, head };
      }
    } catch (err) {
      for (const c of clients) send(c.res, "problem", errorRecord(err));
    } finally {
      this.busy = false;
    }
  }
}
