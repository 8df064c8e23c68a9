import { UpgradeError } from "../errors.js";
import { parseDatabaseUrl } from "../url.js";
import type { JournalStore } from "./types.js";

/**
 * Opens the journal named by a URL (`sqlite:<path>` by default; `postgres://` and `mysql://`
 * journals, in a database of their own, load their driver only when used), applying the
 * journal's own migrations.
 */
export async function openJournal(url: string, baseDir: string): Promise<JournalStore> {
  const target = parseDatabaseUrl(url, baseDir);
  switch (target.dialect) {
    case "sqlite": {
      const { openSqliteJournal } = await import("./sqlite-store.js");
      return openSqliteJournal(target.path);
    }
    case "postgres": {
      const { openPostgresJournal } = await import("./pg-store.js");
      return openPostgresJournal({ ...target, dialect: "postgres" });
    }
    case "mysql": {
      const { openMysqlJournal } = await import("./mysql-store.js");
      return openMysqlJournal({ ...target, dialect: "mysql" });
    }
    default:
      throw new UpgradeError("E_CONFIG", `a ${(target as { dialect: string }).dialect} journal is not supported`, {
        hint: "leave `journal` unset to keep the journal in <stateDir>/journal.sqlite",
      });
  }
}
