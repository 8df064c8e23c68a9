// The journal store contract: append, fencing, replay, tamper detection, leases and concurrent
// opening, defined once and run for the SQLite, PostgreSQL and MySQL stores
// (test/journal-stores.contract.test.ts), on real databases.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunJournal } from "../../src/journal/journal.js";
import { openJournal } from "../../src/journal/open.js";
import type { JournalStore, Lease, RunRecord } from "../../src/journal/types.js";
import { caught } from "./helpers.js";

/** A fresh, empty database for one journal test. */
export interface JournalDb {
  url: string;
  /** Runs one SQL statement on the journal database, beside the store. */
  exec(sql: string): Promise<void>;
  /** drizzle's bookkeeping rows of the journal's own migrations. */
  bookkeepingRows(): Promise<number>;
  drop(): Promise<void>;
}

/** A journal backend under test. */
export interface JournalTarget {
  name: string;
  available: boolean;
  /** A URL naming a database that does not exist on the same server (server journals only). */
  missingUrl?: string;
  create(): Promise<JournalDb>;
}

function run(target = "postgres://db.example:5432/app", at = new Date().toISOString()): RunRecord {
  return { runId: randomUUID(), target, name: "app", createdAt: at };
}

function lease(owner: string, expiresAt: number, target = "postgres://db.example:5432/app"): Lease {
  return { target, owner, runId: null, host: "test-host", pid: process.pid, expiresAt };
}

/** Defines the journal store contract tests of one backend. */
export function defineJournalContract(target: JournalTarget): void {
  describe.skipIf(!target.available)(`${target.name} journal store contract`, () => {
    let db: JournalDb;
    const stores: JournalStore[] = [];
    const open = async (): Promise<JournalStore> => {
      const store = await openJournal(db.url, "/");
      stores.push(store);
      return store;
    };
    beforeEach(async () => void (db = await target.create()));
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
      await db.drop();
    });

    it("appends are read back in order with a verified hash chain, and runs are listed newest first, by target", async () => {
      const store = await open();
      const older = run("sqlite:/srv/a.sqlite", "2030-01-01T00:00:00.000Z");
      const newer = run("sqlite:/srv/a.sqlite", "2030-01-02T00:00:00.000Z");
      const other = run("sqlite:/srv/b.sqlite", "2030-01-03T00:00:00.000Z");
      const journal = await RunJournal.create(store, older, { config: { nested: [1, "two", null] } });
      await journal.append({ type: "step.started", step: "preflight", payload: { attempt: 1 } });
      await journal.append({ type: "step.succeeded", step: "preflight", payload: { output: { ok: true } } });
      await RunJournal.create(store, newer, {});
      await RunJournal.create(store, other, {});
      expect((await store.runs()).map((r) => r.runId)).toEqual([other.runId, newer.runId, older.runId]);
      expect((await store.runs("sqlite:/srv/a.sqlite")).map((r) => r.runId)).toEqual([newer.runId, older.runId]);
      const replayed = await RunJournal.open(store, older.runId);
      expect(replayed.events).toEqual(journal.events);
      expect(replayed.events.map((e) => e.seq)).toEqual([0, 1, 2]);
    });

    it("fences a second writer: the same seq appended twice fails with E_FENCED and the first event stays", async () => {
      const [a, b] = [await open(), await open()];
      const r = run();
      await RunJournal.create(a, r, {});
      const first = await RunJournal.open(a, r.runId);
      const second = await RunJournal.open(b, r.runId);
      const kept = await first.append({ type: "step.started", step: "preflight", payload: { by: "a" } });
      const err = await caught(second.append({ type: "step.started", step: "preflight", payload: { by: "b" } }));
      expect(err.code).toBe("E_FENCED");
      expect((await RunJournal.open(b, r.runId)).events.at(-1)).toEqual(kept);
      await expect(RunJournal.create(b, r, {})).rejects.toThrow(); // a run id is created once
      expect((await a.read(r.runId)).length).toBe(2);
    });

    it("replays from a new connection exactly, and detects an event edited behind its back", async () => {
      const r = run();
      const journal = await RunJournal.create(await open(), r, { a: 1 });
      await journal.append({ type: "step.started", step: "backup", payload: { attempt: 1 } });
      await journal.append({ type: "step.failed", step: "backup", payload: { error: { code: "E_BACKUP" } } });
      const fresh = await open();
      expect((await RunJournal.open(fresh, r.runId)).events).toEqual(journal.events);
      await db.exec(`UPDATE upgrade_machine_events SET payload = '{"attempt":2}' WHERE run_id = '${r.runId}' AND seq = 1`);
      expect((await caught(RunJournal.open(fresh, r.runId))).code).toBe("E_JOURNAL_TAMPERED");
    });

    it("leases: one holder at a time, renewed only by it, taken over only when canTake allows, released by its owner", async () => {
      const [a, b] = [await open(), await open()];
      const now = Date.now();
      expect(await a.acquireLease(lease("a", now + 60_000), () => false)).toEqual({ acquired: true });
      const refused = await b.acquireLease(lease("b", now + 60_000), () => false);
      expect(refused).toMatchObject({ acquired: false, holder: { owner: "a", expiresAt: now + 60_000 } });
      expect(await a.renewLease(lease("a", 0).target, "a", now + 120_000)).toBe(true);
      expect(await a.renewLease(lease("a", 0).target, "a", now + 120_000)).toBe(true); // same value: still held
      expect(await b.renewLease(lease("b", 0).target, "b", now + 120_000)).toBe(false);
      expect(await b.acquireLease(lease("b", now + 60_000), (h) => h.expiresAt < now)).toMatchObject({ acquired: false });
      expect(await b.acquireLease(lease("b", now + 60_000), (h) => h.owner === "a")).toEqual({ acquired: true });
      expect(await a.renewLease(lease("a", 0).target, "a", now + 180_000)).toBe(false);
      await a.releaseLease(lease("a", 0).target, "a"); // not the holder any more: no effect
      expect(await a.acquireLease(lease("a", now), () => false)).toMatchObject({ acquired: false, holder: { owner: "b" } });
      await b.releaseLease(lease("b", 0).target, "b");
      expect(await a.acquireLease(lease("a", now), () => false)).toEqual({ acquired: true });
    });

    it("of several drivers racing for a free lease on separate connections, exactly one gets it", async () => {
      const racers = await Promise.all([0, 1, 2, 3].map(() => open()));
      const results = await Promise.all(racers.map((s, i) => s.acquireLease(lease(`owner-${i}`, Date.now() + 60_000), () => false)));
      expect(results.filter((r) => r.acquired).length).toBe(1);
      const owners = new Set(results.map((r) => (r.acquired ? null : r.holder.owner)).filter(Boolean));
      expect(owners.size).toBe(1);
    });

    it("a missing journal database is E_NOT_FOUND with the command that creates it, and is not created", async (ctx) => {
      if (!target.missingUrl) return ctx.skip(); // a SQLite journal creates its own file
      const err = await caught(openJournal(target.missingUrl, "/"));
      expect(err.code).toBe("E_NOT_FOUND");
      expect(err.hint).toMatch(/CREATE DATABASE/);
      expect((await caught(openJournal(target.missingUrl, "/"))).code).toBe("E_NOT_FOUND");
    });

    it("two stores opening a new journal at once both work, and its migrations are applied once", async () => {
      const [a, b] = await Promise.all([open(), open()]);
      await RunJournal.create(a, run(), {});
      expect((await b.runs()).length).toBe(1);
      expect(await db.bookkeepingRows()).toBe(1);
    });
  });
}
