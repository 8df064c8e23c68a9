// The journal store contract (test/contract/journal-contract.ts) run for the in-memory reference
// store, the SQLite store and journals on PostgreSQL and MySQL/MariaDB (each in a database of its own).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openJournal } from "../src/journal/open.js";
import { createMemoryJournal } from "../src/testing/index.js";
import { defineJournalContract, type JournalDb, type JournalTarget } from "./contract/journal-contract.js";
import { createScratchDatabase, execSql, querySql, randomName, serverAvailable, urlFor, type ServerDialect } from "./helpers/servers.js";

/** The damage of a JournalDb done in SQL. */
function sqlDamage(exec: (sql: string) => Promise<void>): Pick<JournalDb, "editPayload" | "deleteEvent" | "forgetHead"> {
  return {
    editPayload: (runId, seq, payload) =>
      exec(`UPDATE upgrade_machine_events SET payload = '${payload}' WHERE run_id = '${runId}' AND seq = ${seq}`),
    deleteEvent: (runId, seq) => exec(`DELETE FROM upgrade_machine_events WHERE run_id = '${runId}' AND seq = ${seq}`),
    forgetHead: (runId) => exec(`UPDATE upgrade_machine_runs SET last_seq = NULL WHERE run_id = '${runId}'`),
  };
}

const memory: JournalTarget = {
  name: "in-memory reference",
  available: true,
  migrates: false,
  async create() {
    const journal = createMemoryJournal();
    const events = (runId: string) => journal.data.events.get(runId) ?? [];
    return {
      open: async () => journal.open(),
      editPayload: async (runId, seq, payload) => void (events(runId).find((e) => e.seq === seq)!.payload = JSON.parse(payload)),
      deleteEvent: async (runId, seq) =>
        void journal.data.events.set(
          runId,
          events(runId).filter((e) => e.seq !== seq),
        ),
      forgetHead: async (runId) => void (journal.data.runs.get(runId)!.lastSeq = null),
      bookkeepingRows: async () => null,
      drop: async () => undefined,
    };
  },
};

const sqlite: JournalTarget = {
  name: "sqlite",
  available: true,
  migrates: true,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), "um-journal-"));
    const path = join(dir, "journal.sqlite");
    const withDb = <T>(fn: (db: Database.Database) => T): T => {
      const db = new Database(path);
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    return {
      open: () => openJournal(`sqlite:${path}`, "/"),
      ...sqlDamage(async (sql) => withDb((db) => void db.exec(sql))),
      bookkeepingRows: async () =>
        withDb((db) => Number((db.prepare("SELECT COUNT(*) AS n FROM __drizzle_migrations").get() as { n: number }).n)),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function server(dialect: ServerDialect, available: boolean): JournalTarget {
  return {
    name: dialect,
    available,
    migrates: true,
    missingUrl: urlFor(dialect, randomName("um_nojournal")),
    async create() {
      const db = await createScratchDatabase(dialect, "um_journal");
      const table = dialect === "postgres" ? "drizzle.__drizzle_migrations" : "__drizzle_migrations";
      return {
        open: () => openJournal(db.url, "/"),
        ...sqlDamage((sql) => execSql(dialect, db.url, [sql])),
        bookkeepingRows: async () =>
          Number((await querySql<{ n: unknown }>(dialect, db.url, [`SELECT COUNT(*) AS n FROM ${table}`]))[0]?.n),
        drop: db.drop,
      };
    },
  };
}

const [pg, my] = await Promise.all([serverAvailable("postgres"), serverAvailable("mysql")]);
for (const target of [memory, sqlite, server("postgres", pg), server("mysql", my)]) defineJournalContract(target);
