import { fencedError, leaseLostError } from "../journal/rows.js";
import type { JournalEvent, JournalStore, Lease, LeaseFence, LeaseRequest, RunRecord } from "../journal/types.js";

/** What an in-memory journal holds: shared by every store opened on it, as a database is by connections. */
export interface MemoryJournalData {
  runs: Map<string, RunRecord>;
  events: Map<string, JournalEvent[]>;
  leases: Map<string, Lease>;
}

/** An in-memory journal: stores on the same data behave as connections to one journal database. */
export interface MemoryJournal {
  /** The rows, to look at or to damage in a test (as a person with a SQL shell would). */
  readonly data: MemoryJournalData;
  /** A store on the data (another "connection"). */
  open(): JournalStore;
}

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The reference `JournalStore`: the whole contract in memory, in a few lines, run through the same
 * contract suite as the SQLite, PostgreSQL and MySQL stores (test/journal-stores.contract.test.ts).
 * Read it to see what a store must do; use it to test runners and steps without a database.
 * Every operation is atomic (JavaScript runs one at a time); `clock` is the journal's clock.
 */
export function createMemoryJournal(options: { clock?: () => number } = {}): MemoryJournal {
  const data: MemoryJournalData = { runs: new Map(), events: new Map(), leases: new Map() };
  const now = options.clock ?? (() => Date.now());
  const open = (): JournalStore => ({
    display: "memory",
    async createRun(run, first) {
      if (data.runs.has(run.runId)) throw fencedError(first, null);
      data.runs.set(run.runId, { ...copy(run), lastSeq: first.seq, lastHash: first.hash });
      data.events.set(run.runId, [copy(first)]);
    },
    async runs(target) {
      return [...data.runs.values()]
        .filter((r) => target === undefined || r.target === target)
        .sort((a, b) => (a.createdAt === b.createdAt ? b.runId.localeCompare(a.runId) : b.createdAt.localeCompare(a.createdAt)))
        .map(copy);
    },
    async run(runId) {
      const run = data.runs.get(runId);
      return run ? copy(run) : null;
    },
    async read(runId) {
      return copy(data.events.get(runId) ?? []);
    },
    async eventsAfter(runId, seq) {
      return copy((data.events.get(runId) ?? []).filter((e) => e.seq > seq));
    },
    async append(event: JournalEvent, lease?: LeaseFence) {
      if (lease && data.leases.get(lease.target)?.owner !== lease.owner) throw leaseLostError(event, lease.target);
      const run = data.runs.get(event.runId);
      const events = data.events.get(event.runId) ?? [];
      const headOk = run && (run.lastSeq === null || run.lastSeq === undefined || run.lastSeq === event.seq - 1);
      if (!run || !headOk || events.some((e) => e.seq === event.seq)) throw fencedError(event, null);
      events.push(copy(event));
      data.events.set(event.runId, events);
      data.runs.set(event.runId, { ...run, lastSeq: event.seq, lastHash: event.hash });
    },
    async now() {
      return now();
    },
    async acquireLease(request: LeaseRequest, ttlMs: number, canTake: (holder: Lease, now: number) => boolean) {
      const at = now();
      const holder = data.leases.get(request.target);
      if (holder && !canTake(copy(holder), at)) return { acquired: false as const, holder: copy(holder) };
      data.leases.set(request.target, { ...copy(request), expiresAt: at + ttlMs });
      return { acquired: true as const, expiresAt: at + ttlMs };
    },
    async renewLease(target, owner, ttlMs) {
      const lease = data.leases.get(target);
      if (lease?.owner !== owner) return false;
      lease.expiresAt = now() + ttlMs;
      return true;
    },
    async releaseLease(target, owner) {
      if (data.leases.get(target)?.owner === owner) data.leases.delete(target);
    },
    async close() {},
  });
  return { data, open };
}
