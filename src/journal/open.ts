import { openJournalStore } from "../adapters/registry.js";
import { UpgradeError } from "../errors.js";
import { parseDatabaseUrl } from "../url.js";
import type { JournalStore } from "./types.js";

/**
 * Opens the journal named by a URL (`sqlite:<path>` by default; `postgres://` and `mysql://`
 * journals, in a database of their own, load their driver only when used), applying the
 * journal's own migrations. With `create: false`, a journal that does not exist yet is null.
 */
export async function openJournal(url: string, baseDir: string): Promise<JournalStore> {
  const store = await openJournalStore(parseDatabaseUrl(url, baseDir), { create: true });
  if (!store) throw new UpgradeError("E_INTERNAL", `the journal at ${url} was not created`);
  return store;
}
