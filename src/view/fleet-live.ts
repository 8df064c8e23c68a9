import type { ServerResponse } from "node:http";
import { errorRecord } from "../errors.js";
import type { FleetFeed, FleetSnapshot } from "./fleet-feed.js";
import { fleetGrid } from "./fleet-page.js";
import { sendEvent, startStream } from "./http.js";

/** What a `status` event carries: the rollout's last seq, its status (as `fleet status --json`) and the page's body. */
export interface FleetStatusEvent {
  seq: number | null;
  status: FleetSnapshot["status"] | null;
  html: string;
}

/**
 * Server-sent events for the fleet page. One poller reads the fleet journal every `pollMs` while
 * at least one page is connected, and sends each page `status` when the rollout's status changed
 * since the last one it got (on connect: the current one), or `problem`.
 */
export class FleetLive {
  private readonly clients = new Map<ServerResponse, string | null>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly feed: FleetFeed,
    private readonly token: string,
    private readonly pollMs: number,
  ) {}

  /** Starts streaming to a page; the stream ends when the page goes away. */
  attach(res: ServerResponse): void {
    startStream(res);
    this.clients.set(res, null);
    res.on("close", () => {
      this.clients.delete(res);
      if (!this.clients.size) this.stop();
    });
    void this.update();
    this.timer ??= setInterval(() => void this.update(), this.pollMs);
  }

  /** Ends every stream and the poller. */
  close(): void {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async update(): Promise<void> {
    if (this.busy || !this.clients.size) return;
    this.busy = true;
    try {
      const now = await this.feed.snapshot();
      const key = JSON.stringify(now);
      const event: FleetStatusEvent = {
        seq: now?.seq ?? null,
        status: now?.status ?? null,
        html: fleetGrid(now?.status ?? null, this.token),
      };
      for (const [res, shown] of this.clients) {
        if (shown !== key) sendEvent(res, "status", event);
        this.clients.set(res, key);
      }
    } catch (err) {
      for (const res of this.clients.keys()) sendEvent(res, "problem", errorRecord(err));
    } finally {
      this.busy = false;
    }
  }
}
