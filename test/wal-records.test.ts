// The WAL record judge of PostgreSQL's change marks, one record at a time (the records as
// pg_walinspect prints them on PostgreSQL 15; the server tests run it on real WAL).
import { describe, expect, it } from "vitest";
import { judgeWalRecord, parseLsn, type WalRecord } from "../src/adapters/postgres/wal-records.js";

const ctx = { database: 16386, benignShared: new Set([1262, 2671, 2672]), settled: parseLsn("0/2000"), writers: new Set(["700"]) };
const rec = (rmgr: string, type: string, extra: Partial<WalRecord> = {}): WalRecord => ({
  start: "0/3000",
  xid: "800",
  rmgr,
  type,
  description: "",
  blockRef: "",
  ...extra,
});

describe("judging WAL records for a change mark", () => {
  it("parses LSNs", () => {
    expect(parseLsn("1/A0")).toBe((1n << 32n) + 160n);
    expect(() => parseLsn("nope")).toThrow();
  });

  it("a block of the target is a change, unless the record only rewrites hints, prunes or freezes", () => {
    const ref = { blockRef: "blkref #0: rel 1663/16386/16393 fork main blk 0" };
    expect(judgeWalRecord(rec("Heap", "INSERT", ref), ctx)).toMatch(/relation file 16393/);
    expect(judgeWalRecord(rec("Heap", "HOT_UPDATE", ref), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("XLOG", "FPI", ref), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("XLOG", "FPI_FOR_HINT", ref), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Heap2", "PRUNE", ref), ctx)).toBeNull();
  });

  it("blocks of other databases are not; shared catalogs only when they hold database-level bookkeeping", () => {
    expect(judgeWalRecord(rec("Heap", "INSERT", { blockRef: "blkref #0: rel 1663/16400/16401 blk 3" }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Heap", "INSERT", { blockRef: "blkref #0: rel 1664/0/1262 blk 0" }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Heap", "UPDATE", { blockRef: "blkref #0: rel 1664/0/1260 blk 0" }), ctx)).toMatch(/shared catalog/);
    // one reference to the target among others is enough
    const both = "blkref #0: rel 1663/16400/16401 blk 3 blkref #1: rel 1663/16386/2619 blk 9";
    expect(judgeWalRecord(rec("Heap", "UPDATE", { blockRef: both }), ctx)).not.toBeNull();
  });

  it("commits: a writer at the mark, or one before the mark settled, is a change; aborts never are", () => {
    expect(judgeWalRecord(rec("Transaction", "COMMIT", { xid: "700" }), ctx)).toMatch(/was writing/);
    expect(judgeWalRecord(rec("Transaction", "COMMIT", { start: "0/1800" }), ctx)).toMatch(/while the mark/);
    expect(judgeWalRecord(rec("Transaction", "COMMIT"), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Transaction", "ABORT", { xid: "700" }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Transaction", "COMMIT_PREPARED"), ctx)).not.toBeNull();
  });

  it("database, storage, relmap and lock records count when they name the target", () => {
    expect(judgeWalRecord(rec("Database", "CREATE_FILE_COPY", { description: "copy dir 1663/16386 to 1663/16500" }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Database", "CREATE_FILE_COPY", { description: "copy dir 1663/1 to 1663/16386" }), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("Database", "DROP", { description: "dir 1663/16500 1700/16386" }), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("Storage", "CREATE", { description: "base/16500/16501" }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Storage", "TRUNCATE", { description: "base/16386/16393 to 0 blocks flags 7" }), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("Storage", "CREATE", { description: "global/99999" }), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("RelMap", "UPDATE", { description: "database 16500 tablespace 1663 size 512" }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("RelMap", "UPDATE", { description: "database 0 tablespace 1664 size 512" }), ctx)).not.toBeNull();
    expect(judgeWalRecord(rec("Standby", "LOCK", { description: "xid 800 db 16500 rel 16501 " }), ctx)).toBeNull();
    expect(judgeWalRecord(rec("Standby", "LOCK", { description: "xid 800 db 16386 rel 16393 " }), ctx)).not.toBeNull();
  });

  it("bookkeeping passes; a record it does not know is a change", () => {
    for (const [rmgr, type] of [
      ["XLOG", "CHECKPOINT_ONLINE"],
      ["Standby", "RUNNING_XACTS"],
      ["CLOG", "ZEROPAGE"],
    ] as const) {
      expect(judgeWalRecord(rec(rmgr, type), ctx)).toBeNull();
    }
    expect(judgeWalRecord(rec("LogicalMessage", "MESSAGE", { description: "hello" }), ctx)).toMatch(/not known/);
  });
});
