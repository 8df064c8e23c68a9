import type { BackupOptions } from "../config/types.js";
import type { FleetStore } from "../fleet/store.js";
import type { JournalStore } from "../journal/types.js";
import type { DatabaseTarget } from "../url.js";
import type { BackupArtifact, DatabaseAdapter } from "./types.js";

/** The dialect names, as database URLs give them. */
export type DialectName = DatabaseTarget["dialect"];

/** A parsed target of one dialect. */
export type TargetOf<D extends DialectName> = D extends "sqlite"
  ? Extract<DatabaseTarget, { dialect: "sqlite" }>
  : Exclude<DatabaseTarget, { dialect: "sqlite" }> & { dialect: D };

/**
 * Everything the core needs of a dialect, in one place per dialect (`src/adapters/<d>/dialect.ts`):
 * its adapter, its journal store, its key for a target, and how a person restores by hand. The
 * core never compares dialect names; it asks the registry (`registry.ts`) for the target's dialect.
 */
export interface Dialect<D extends DialectName = DialectName> {
  readonly name: D;
  /** The adapter of a target, with the config's backup options; connects lazily. */
  openAdapter(target: TargetOf<D>, backup: BackupOptions): DatabaseAdapter;
  /**
   * The journal store in a database of this dialect, its tables migrated. With `create` false, a
   * journal that does not exist yet (a SQLite file) is `null` and nothing is created.
   */
  openJournal(target: TargetOf<D>, options: { create: boolean }): Promise<JournalStore | null>;
  /** The shared fleet journal (rollouts, claims) in a database of this dialect; absent where fleets are not supported. */
  openFleetStore?(target: TargetOf<D>): Promise<FleetStore>;
  /** The key the journal files a target's runs and lease under (a real path; a normalised address). */
  targetKey(target: TargetOf<D>): string;
  /** The file a target lives in, when it is a file: never redacted, and checked against `files`. */
  localPath(target: TargetOf<D>): string | null;
  /**
   * The shell command a person runs to put `artifact` back into `target` with the service
   * stopped; `realPath` is the database file as preflight resolved it (file dialects).
   */
  manualRestore(target: TargetOf<D>, artifact: BackupArtifact, realPath?: string): string;
}

/** A word for a shell command line: as is when safe, single-quoted otherwise. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
