import { getTableName } from "drizzle-orm";
import { events, leases, runs } from "../../schema/pg.js";

/**
 * The journal's table and column names, read from its Drizzle schema (every dialect's schema
 * names them alike: test/journal-schema.test.ts checks it), for the SQL of the server store.
 */
export const TABLES = {
  runs: {
    table: getTableName(runs),
    runId: runs.runId.name,
    target: runs.target.name,
    name: runs.name.name,
    createdAt: runs.createdAt.name,
    identity: runs.identity.name,
    lastSeq: runs.lastSeq.name,
    lastHash: runs.lastHash.name,
  },
  events: {
    table: getTableName(events),
    runId: events.runId.name,
    seq: events.seq.name,
    type: events.type.name,
    step: events.step.name,
    payload: events.payload.name,
    at: events.at.name,
    hash: events.hash.name,
  },
  leases: {
    table: getTableName(leases),
    target: leases.target.name,
    owner: leases.owner.name,
    runId: leases.runId.name,
    host: leases.host.name,
    pid: leases.pid.name,
    process: leases.process.name,
    expiresAt: leases.expiresAt.name,
  },
} as const;
