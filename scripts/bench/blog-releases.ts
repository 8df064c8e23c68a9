// The releases the SQLite benchmark upgrades the example blog to, and what applying one by hand
// takes. 2.0.0 is the example's own (its migration rebuilds the posts table: O(size), the same on
// both sides); 1.1.0 is made here from 1.0.0 plus one cheap migration (a nullable column added:
// no table rebuild, O(1)), so the downtime shows the orchestration's own cost against the
// by-hand procedure's.
import { createHash } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The release of the cheap migration. */
export const CHEAP_RELEASE = "1.1.0";
const CHEAP_TAG = "0001_posts_summary";

interface Journal {
  entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
}

/** Adds release 1.1.0 (1.0.0's code and schema checks, one more migration) to an installation of the example. */
export function addCheapRelease(home: string): void {
  const from = join(home, "releases", "1.0.0");
  const to = join(home, "releases", CHEAP_RELEASE);
  cpSync(from, to, { recursive: true });
  writeFileSync(join(to, "VERSION"), `${CHEAP_RELEASE}\n`);
  writeFileSync(join(to, "drizzle", `${CHEAP_TAG}.sql`), "ALTER TABLE `posts` ADD `summary` text;");
  const journalFile = join(to, "drizzle", "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as Journal;
  const last = journal.entries.at(-1)!;
  journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 1000, tag: CHEAP_TAG, breakpoints: true });
  writeFileSync(journalFile, `${JSON.stringify(journal, null, 2)}\n`);
}

/**
 * What a careful operator runs through the `sqlite3` shell to apply `release`'s migrations that
 * 1.0.0 lacks: each file as drizzle-kit wrote it, then drizzle's bookkeeping row (the file's
 * sha256 and the journal's `when`, as drizzle's migrate() records it), so the new release starts
 * and its `ctl.sh check` passes, as after upgrade-machine's migrate.
 */
export function byHandMigration(home: string, release: string): { file: string; bookkeeping: string }[] {
  const dir = join(home, "releases", release, "drizzle");
  const journal = JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8")) as Journal;
  return journal.entries.slice(1).map((e) => {
    const file = join(dir, `${e.tag}.sql`);
    const hash = createHash("sha256").update(readFileSync(file, "utf8")).digest("hex");
    return { file, bookkeeping: `INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('${hash}', ${e.when})` };
  });
}
