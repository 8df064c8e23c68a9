// The journal store contract: append, fencing, replay, tamper detection, leases and concurrent
// opening, defined once and run for the SQLite, PostgreSQL and MySQL stores
// (test/journal-stores.contract.test.ts), on real databases.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { journalMigrationsDir } from "../../src/package-root.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunJournal } from "../../src/journal/journal.js";
import { openJournal } from "../../src/journal/open.js";
import type { JournalStore, LeaseRequest, RunRecord } from "../../src/journal/types.js";
import { caught } from "./helpers.js";

/** How many migrations the journal's own schema has on a dialect (PostgreSQL's also holds the fleet tables). */
const journalMigrations = (dialect: string): number =>
  (
    JSON.parse(
      readFileSync(
        join(journalMigrationsDir(dialect === "postgres" ? "pg" : dialect === "mysql" ? "mysql" : "sqlite"), "meta", "_journal.json"),
        "utf8",
      ),
    ) as { entries: unknown[] }
  ).entries.length;

/** A fresh, empty journal for one test, and the damage a person with a SQL shell could do to it. */
export interface JournalDb {
  /** A store on the journal (each call: another connection, as another process would have). */
  open(): Promise<JournalStore>;
  /** Sets an event's stored payload (JSON text) behind the store's back. */
  editPayload(runId: string, seq: number, payload: string): Promise<void>;
  /** Deletes an event behind the store's back. */
  deleteEvent(runId: string, seq: number): Promise<void>;
  /** Forgets a run's head (as runs written before heads existed have none). */
  forgetHead(runId: string): Promise<void>;
  /** drizzle's bookkeeping rows of the journal's own migrations (null: a store without migrations). */
  bookkeepingRows(): Promise<number | null>;
  drop(): Promise<void>;
}

/** A journal backend under test. */
export interface JournalTarget {
  name: string;
  available: boolean;
  /** A URL naming a database that does not exist on the same server (server journals only). */
  missingUrl?: string;
  /** Whether several stores opening a new journal at once must be proven (stores with migrations). */
  migrates: boolean;
  create(): Promise<JournalDb>;
}

function run(target = "postgres://db.example:5432/app", at = new Date().toISOString()): RunRecord {
  return { runId: randomUUID(), target, name: "app", createdAt: at };
}

function lease(owner: string, target = "postgres://db.example:5432/app"): LeaseRequest {
  return { target, owner, runId: null, host: "test-host", pid: process.pid, process: null };
}

/** Defines the journal store contract tests of one backend. */
export function defineJournalContract(target: JournalTarget): void {
  describe.skipIf(!target.available)(`${target.name} journal store contract`, () => {
    let db: JournalDb;
    const stores: JournalStore[] = [];
    const open = async (): Promise<JournalStore> => {
      const store = await db.open();
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

    it("eventsAfter reads only a run's events after a seq, in order, and what another connection appends next", async () => {
      const [a, b] = [await open(), await open()];
      const r = run();
      const journal = await RunJournal.create(a, r, {});
      for (const step of ["preflight", "backup"] as const) {
        await journal.append({ type: "step.started", step, payload: { attempt: 1 } });
        await journal.append({ type: "step.succeeded", step, payload: { output: { step } } });
      }
      await RunJournal.create(a, run(), {}); // another run's events are never part of the answer
      expect(await b.eventsAfter(r.runId, -1)).toEqual(journal.events);
      expect(await b.eventsAfter(r.runId, 2)).toEqual(journal.events.slice(3));
      expect(await b.eventsAfter(r.runId, 4)).toEqual([]);
      expect(await b.eventsAfter("no-such-run", -1)).toEqual([]);
      const next = await journal.append({ type: "step.started", step: "announce", payload: { attempt: 1 } });
      expect(await b.eventsAfter(r.runId, 4)).toEqual([next]);
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
      await db.editPayload(r.runId, 1, '{"attempt":2}');
      expect((await caught(RunJournal.open(fresh, r.runId))).code).toBe("E_JOURNAL_TAMPERED");
    });

    it("detects events removed from the end of a run: the run's head is kept with each append (E_JOURNAL_TAMPERED)", async () => {
      const store = await open();
      const r = run();
      const journal = await RunJournal.create(store, r, {});
      await journal.append({ type: "step.started", step: "preflight", payload: { attempt: 1 } });
      await journal.append({ type: "step.succeeded", step: "preflight", payload: { output: null } });
      expect((await store.run(r.runId))?.lastSeq).toBe(2);
      await db.deleteEvent(r.runId, 2);
      const err = await caught(RunJournal.open(await open(), r.runId));
      expect(err.code).toBe("E_JOURNAL_TAMPERED");
      expect(err.message).toMatch(/head is event 2/);
      // the chain itself is intact: only the head tells
      await db.forgetHead(r.runId);
      expect((await RunJournal.open(await open(), r.runId)).events.length).toBe(2);
    });

    it("an append whose head moved (another writer appended) is fenced even under another seq", async () => {
      const store = await open();
      const r = run();
      await RunJournal.create(store, r, {});
      const stale = await RunJournal.open(store, r.runId);
      const live = await RunJournal.open(await open(), r.runId);
      await live.append({ type: "step.started", step: "preflight" });
      await db.deleteEvent(r.runId, 1);
      // the seq is free again, but the head says 1: the stale writer still loses
      expect((await caught(stale.append({ type: "step.started", step: "preflight" }))).code).toBe("E_FENCED");
    });

    it("an append fenced by a lease is written only while that lease is held: after a takeover it is E_BUSY and nothing is written", async () => {
      const [a, b] = [await open(), await open()];
      const r = run();
      await RunJournal.create(a, r, {});
      expect(await a.acquireLease(lease("a"), 60_000, () => false)).toMatchObject({ acquired: true });
      const journal = (await RunJournal.open(a, r.runId)).fenceWith({ target: lease("a").target, owner: "a" });
      await journal.append({ type: "step.started", step: "preflight" });
      expect(await b.acquireLease(lease("b"), 60_000, () => true)).toMatchObject({ acquired: true }); // taken over
      const err = await caught(journal.append({ type: "step.succeeded", step: "preflight", payload: { output: null } }));
      expect(err.code).toBe("E_BUSY");
      expect((await b.read(r.runId)).length).toBe(2);
      expect((await b.run(r.runId))?.lastSeq).toBe(1);
    });

    it("leases expire by the journal database's clock, are renewed only by their holder and taken over only when canTake allows", async () => {
      const [a, b] = [await open(), await open()];
      const t = lease("a").target;
      const before = await a.now();
      const got = await a.acquireLease(lease("a"), 60_000, () => false);
      expect(got).toMatchObject({ acquired: true });
      const expiresAt = (got as { expiresAt: number }).expiresAt;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(expiresAt).toBeLessThan((await a.now()) + 60_001);
      const seen: number[] = [];
      const refused = await b.acquireLease(lease("b"), 60_000, (_h, now) => (seen.push(now), false));
      expect(refused).toMatchObject({ acquired: false, holder: { owner: "a", expiresAt } });
      expect(seen.length).toBe(1);
      expect(Math.abs(seen[0]! - (await b.now()))).toBeLessThan(5_000); // canTake is given the database's clock
      expect(await a.renewLease(t, "a", 120_000)).toBe(true);
      expect(await a.renewLease(t, "a", 120_000)).toBe(true);
      expect(await b.renewLease(t, "b", 120_000)).toBe(false);
      expect(await b.acquireLease(lease("b"), 60_000, (h, now) => h.expiresAt < now)).toMatchObject({ acquired: false });
      expect(await b.acquireLease(lease("b"), 60_000, (h) => h.owner === "a")).toMatchObject({ acquired: true });
      expect(await a.renewLease(t, "a", 180_000)).toBe(false);
      await a.releaseLease(t, "a"); // not the holder any more: no effect
      expect(await a.acquireLease(lease("a"), 60_000, () => false)).toMatchObject({ acquired: false, holder: { owner: "b" } });
      await b.releaseLease(t, "b");
      expect(await a.acquireLease(lease("a"), 1, () => false)).toMatchObject({ acquired: true });
      await new Promise((r) => setTimeout(r, 20));
      expect(await b.acquireLease(lease("b"), 60_000, (h, now) => h.expiresAt < now)).toMatchObject({ acquired: true });
    });

    it("of several drivers racing for a free lease on separate connections, exactly one gets it", async () => {
      const racers = await Promise.all([0, 1, 2, 3].map(() => open()));
      const results = await Promise.all(racers.map((s, i) => s.acquireLease(lease(`owner-${i}`), 60_000, () => false)));
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

    it("two stores opening a new journal at once both work, and its migrations are applied once", async (ctx) => {
      if (!target.migrates) return ctx.skip(); // the in-memory reference store has no tables to migrate
      const [a, b] = await Promise.all([open(), open()]);
      await RunJournal.create(a, run(), {});
      expect((await b.runs()).length).toBe(1);
      expect(await db.bookkeepingRows()).toBe(journalMigrations(target.name));
    });
  });
}
