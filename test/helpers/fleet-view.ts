// Reading the fleet page's server as a browser would: whole answers, and its event stream.
import type { ChildProcess } from "node:child_process";
import type { RolloutStatus } from "../../src/fleet/status.js";

/** GETs `url`; its body is kept in `bodies` (every answer is checked for secrets). */
export async function get(url: string, bodies: string[]): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  const body = await res.text();
  bodies.push(body);
  return { status: res.status, body };
}

/** A server-sent event stream, read as it comes over one connection. */
export interface Stream {
  events(type: string): Record<string, unknown>[];
  /** The `status` of every `status` event, in order (null: no rollout yet). */
  statuses(): (RolloutStatus | null)[];
  /** Ends the stream; returns all it received. */
  close(): string;
}

export function stream(url: string): Stream {
  const abort = new AbortController();
  let text = "";
  void fetch(url, { signal: abort.signal })
    .then(async (res) => {
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    })
    .catch(() => undefined);
  const events = (type: string) =>
    text
      .split("\n\n")
      .map((block) => /^event: (.+)\ndata: (.+)$/.exec(block))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === type)
      .map((m) => JSON.parse(m[2]!) as Record<string, unknown>);
  return {
    events,
    statuses: () => events("status").map((e) => e.status as RolloutStatus | null),
    close() {
      abort.abort();
      return text;
    },
  };
}

/** The first line of the child's stdout that `match` accepts (stdout keeps being drained after). */
export function firstLine(child: ChildProcess, match: (line: string) => boolean): Promise<string> {
  return new Promise((found, failed) => {
    let out = "";
    let done = false;
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").slice(0, -1).find(match);
      if (line !== undefined && !done) {
        done = true;
        found(line);
      }
    });
    child.once("exit", (code) => done || failed(new Error(`exited with ${code} before the line: ${out}`)));
  });
}

/** Waits (up to 60 s) for `ok`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Each target cell of the page, by its `data-target`: the state its class (its colour) names. */
export function targetStates(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<(?:a|span) class="cell state-([^"]+)" data-target="([^"]+)"/g)) out[m[2]!] = m[1]!;
  return out;
}
