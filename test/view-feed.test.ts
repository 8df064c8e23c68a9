import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RunJournal } from "../src/journal/journal.js";
import { openJournal } from "../src/journal/open.js";
import type { JournalStore } from "../src/journal/types.js";
import { JournalFeed } from "../src/view/journal-feed.js";

const TARGET = "sqlite:/srv/app.sqlite";

/** The store, with a record of the event reads made through it. */
function counting(store: JournalStore): { store: JournalStore; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    store: Object.assign(Object.create(store) as JournalStore, {
      read: (runId: string) => (reads.push("read"), store.read(runId)),
      eventsAfter: (runId: string, seq: number) => (reads.push(`after ${seq}`), store.eventsAfter(runId, seq)),
    }),
  };
}

describe("the live view's feed reads only the events after the last one it has", () => {
  const dir = mkdtempSync(join(tmpdir(), "um-sc-feed-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a run whole once, then nothing while its head stays, then only the new events; the rows and state equal a fresh read", async () => {
    const store = await openJournal(`sqlite:${join(dir, "journal.sqlite")}`, dir);
    try {
      const runId = "run-1";
      const journal = await RunJournal.create(
        store,
        { runId, target: TARGET, name: "app", createdAt: new Date().toISOString() },
        {
          target: TARGET,
          toVersion: "2.0.0",
        },
      );
      await journal.append({ type: "step.started", step: "preflight", payload: { attempt: 1 } });
      const { store: watched, reads } = counting(store);
      const feed = new JournalFeed(watched, TARGET);

      const first = await feed.run(runId);
      expect(reads).toEqual(["read"]);
      expect(first?.rows.map((r) => r.seq)).toEqual([0, 1]);
      expect(first?.run.value).toBe("preflight");

      await feed.run(runId);
      await feed.runs();
      expect(reads).toEqual(["read"]); // the head did not move: no event read at all

      await journal.append({
        type: "step.succeeded",
        step: "preflight",
        payload: { output: { fromVersion: "1.0.0", toVersion: "2.0.0" } },
      });
      await journal.append({ type: "step.started", step: "backup", payload: { attempt: 1 } });
      const later = await feed.run(runId);
      expect(reads).toEqual(["read", "after 1"]);
      const fresh = await new JournalFeed(store, TARGET).run(runId);
      expect(later).toEqual(fresh);
      expect(later?.run.value).toBe("backup");
      expect(later?.rows.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
      expect(later?.rows[2]?.durationMs).toBe(fresh?.rows[2]?.durationMs); // the step's duration spans the two reads
    } finally {
      await store.close();
    }
  });

  it("verifies the new events against the last one it has: a broken link is reported, not shown as a state", async () => {
    const store = await openJournal(`sqlite:${join(dir, "journal-2.sqlite")}`, dir);
    try {
      const runId = "run-2";
      const journal = await RunJournal.create(
        store,
        { runId, target: TARGET, name: "app", createdAt: new Date().toISOString() },
        {
          target: TARGET,
          toVersion: "2.0.0",
        },
      );
      const feed = new JournalFeed(store, TARGET);
      expect((await feed.run(runId))?.run.problem).toBeNull();
      // an event whose hash does not chain to the one before, appended as a writer would
      const forged = {
        runId,
        seq: 1,
        type: "step.started" as const,
        step: "preflight" as const,
        payload: { attempt: 1 },
        at: new Date().toISOString(),
        hash: "0".repeat(64),
      };
      await store.append(forged);
      expect(journal.events.length).toBe(1);
      const detail = await feed.run(runId);
      expect(detail?.run.problem?.code).toBe("E_JOURNAL_TAMPERED");
      expect(detail?.run.value).toBeNull();
    } finally {
      await store.close();
    }
  });
});
