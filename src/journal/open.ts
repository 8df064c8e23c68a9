import { UpgradeError } from "../errors.js";
import { parseDatabaseUrl } from "../url.js";
import type { JournalStore } from "./types.js";

/**
 * Opens the journal named by a URL (`sqlite:<path>` by default; PostgreSQL and MySQL journals
 * load their driver only when used), applying the journal's own migrations.
 */
export async function openJournal(url: string, baseDir: string): Promise<JournalStore> {
  const target = parseDatabaseUrl(url, baseDir);
  switch (target.dialect) {
    case "sqlite": {
      const { openSqliteJournal } = await import("./sqlite-store.js");
      return openSqliteJournal(target.path);
    }
    default:
      throw new UpgradeError("E_CONFIG", `a ${target.dialect} journal is not supported yet`, {
        hint: "leave `journal` unset to keep the journal in <stateDir>/journal.sqlite",
      });
  }
}
