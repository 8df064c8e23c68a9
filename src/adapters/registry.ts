import type { BackupOptions } from "../config/types.js";
import { UpgradeError } from "../errors.js";
import type { FleetStore } from "../fleet/store.js";
import type { JournalStore } from "../journal/types.js";
import type { DatabaseTarget } from "../url.js";
import type { Dialect, DialectName } from "./dialect.js";
import type { BackupArtifact, DatabaseAdapter } from "./types.js";

/**
 * Every dialect, loaded on first use: importing the core never loads better-sqlite3, postgres or
 * mysql2. A new dialect is one folder under `src/adapters/` and one line here.
 */
const DIALECTS: { [D in DialectName]: () => Promise<Dialect<D>> } = {
  sqlite: async () => (await import("./sqlite/dialect.js")).sqliteDialect,
  postgres: async () => (await import("./postgres/dialect.js")).postgresDialect,
  mysql: async () => (await import("./mysql/dialect.js")).mysqlDialect,
};

/** The dialect of a target, typed for it. */
async function dialectOf<T extends DatabaseTarget>(target: T): Promise<Dialect<T["dialect"]>> {
  return (await DIALECTS[target.dialect]()) as Dialect<T["dialect"]>;
}

/** The adapter of a database target, with the config's backup options (connects lazily). */
export async function openAdapter(target: DatabaseTarget, backup: BackupOptions = {}): Promise<DatabaseAdapter> {
  return (await dialectOf(target)).openAdapter(target as never, backup);
}

/** The journal store in `target`; null when it does not exist and `create` is false. */
export async function openJournalStore(target: DatabaseTarget, options: { create: boolean }): Promise<JournalStore | null> {
  return (await dialectOf(target)).openJournal(target as never, options);
}

/** The shared fleet journal in `target`; E_CONFIG for a database whose dialect keeps no fleet journal. */
export async function openFleetStore(target: DatabaseTarget): Promise<FleetStore> {
  const dialect = await dialectOf(target);
  if (!dialect.openFleetStore) {
    throw new UpgradeError(
      "E_CONFIG",
      `invalid fleet: journal: a fleet's journal must be a PostgreSQL database (the workers share it), not ${dialect.name}`,
      {
        hint: 'set "journal": "postgres://user@host:5432/database" (a database of its own that every worker reaches)',
      },
    );
  }
  return dialect.openFleetStore(target as never);
}

/** The key the journal files the target's runs and lease under. */
export async function targetKey(target: DatabaseTarget): Promise<string> {
  return (await dialectOf(target)).targetKey(target as never);
}

/** The file the target lives in, when it is one (SQLite). */
export async function localPathOf(target: DatabaseTarget): Promise<string | null> {
  return (await dialectOf(target)).localPath(target as never);
}

/** The command a person runs to restore `artifact` into the target by hand. */
export async function manualRestore(target: DatabaseTarget, artifact: BackupArtifact, realPath?: string): Promise<string> {
  return (await dialectOf(target)).manualRestore(target as never, artifact, realPath);
}
