// The journal store contract (test/contract/journal-contract.ts) run for the SQLite store and
// for journals on PostgreSQL and MySQL/MariaDB (each in a database of its own).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { defineJournalContract, type JournalTarget } from "./contract/journal-contract.js";
import { createScratchDatabase, execSql, querySql, randomName, serverAvailable, urlFor, type ServerDialect } from "./helpers/servers.js";

const sqlite: JournalTarget = {
  name: "sqlite",
  available: true,
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
      url: `sqlite:${path}`,
      exec: async (sql) => withDb((db) => void db.exec(sql)),
      bookkeepingRows: async () => withDb((db) => Number((db.prepare("SELECT COUNT(*) AS n FROM __drizzle_migrations").get() as { n: number }).n)),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function server(dialect: ServerDialect, available: boolean): JournalTarget {
  return {
    name: dialect,
    available,
    missingUrl: urlFor(dialect, randomName("um_nojournal")),
    async create() {
      const db = await createScratchDatabase(dialect, "um_journal");
      const table = dialect === "postgres" ? "drizzle.__drizzle_migrations" : "__drizzle_migrations";
      return {
        url: db.url,
        exec: (sql) => execSql(dialect, db.url, [sql]),
        bookkeepingRows: async () => Number((await querySql<{ n: unknown }>(dialect, db.url, [`SELECT COUNT(*) AS n FROM ${table}`]))[0]?.n),
        drop: db.drop,
      };
    },
  };
}

const [pg, my] = await Promise.all([serverAvailable("postgres"), serverAvailable("mysql")]);
for (const target of [sqlite, server("postgres", pg), server("mysql", my)]) defineJournalContract(target);
