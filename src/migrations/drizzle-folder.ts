import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { UpgradeError } from "../errors.js";
import type { MigrationFile } from "./types.js";

/** drizzle-kit's statement separator inside a `<tag>.sql` file. */
export const STATEMENT_BREAKPOINT = "--> statement-breakpoint";

const GENERATE_HINT = "point the migrations folder at the `out` folder of your drizzle config, as written by `drizzle-kit generate`";

function folderError(message: string, hint: string, details: Record<string, unknown>, cause?: unknown): UpgradeError {
  return new UpgradeError("E_MIGRATION_FOLDER", message, { hint, details, cause });
}

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

function parseJournal(text: string, journalPath: string): JournalEntry[] {
  let journal: unknown;
  try {
    journal = JSON.parse(text);
  } catch (err) {
    throw folderError(
      `${journalPath} is not valid JSON`,
      `restore it from version control or re-run drizzle-kit generate`,
      { journal: journalPath },
      err,
    );
  }
  const entries = (journal as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) {
    throw folderError(`${journalPath} has no "entries" array`, GENERATE_HINT, { journal: journalPath });
  }
  const seenIdx = new Set<number>();
  return entries.map((raw: unknown, position) => {
    const e = raw as Partial<Record<"idx" | "when" | "tag", unknown>> | null;
    const { idx, when, tag } = e ?? {};
    if (
      typeof idx !== "number" ||
      !Number.isInteger(idx) ||
      typeof when !== "number" ||
      !Number.isFinite(when) ||
      typeof tag !== "string" ||
      tag === "" ||
      /[\\/]/.test(tag) ||
      tag === "." ||
      tag === ".."
    ) {
      throw folderError(
        `${journalPath}: entry ${position} is malformed (needs a numeric idx and when, and a file-name tag)`,
        `restore meta/_journal.json from version control or re-run drizzle-kit generate`,
        { journal: journalPath, position },
      );
    }
    if (seenIdx.has(idx)) {
      throw folderError(`${journalPath}: two entries have idx ${idx}`, `restore meta/_journal.json from version control`, {
        journal: journalPath,
        idx,
      });
    }
    seenIdx.add(idx);
    return { idx, when, tag };
  });
}

/**
 * Reads a drizzle-kit migrations folder exactly as drizzle-orm's `readMigrationFiles` does:
 * `meta/_journal.json` entries in journal order, `<tag>.sql` split on `--> statement-breakpoint`,
 * and `hash` = sha256 (hex) of the whole file text, so hashes equal those drizzle records.
 * Statements are trimmed and empty ones dropped.
 *
 * @throws UpgradeError E_MIGRATION_FOLDER when the folder, the journal or a listed `.sql` file is
 * missing, or the journal is malformed.
 */
export async function readDrizzleFolder(dir: string): Promise<MigrationFile[]> {
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw folderError(`migrations folder ${dir} does not exist or is not a directory`, GENERATE_HINT, { dir });
  }
  const journalPath = join(dir, "meta", "_journal.json");
  let journalText: string;
  try {
    journalText = (await readFile(journalPath)).toString();
  } catch (err) {
    throw folderError(
      `${journalPath} is missing: ${dir} is not a drizzle-kit migrations folder`,
      GENERATE_HINT,
      { dir, journal: journalPath },
      err,
    );
  }
  const entries = parseJournal(journalText, journalPath);
  const files: MigrationFile[] = [];
  for (const entry of entries) {
    const sqlPath = join(dir, `${entry.tag}.sql`);
    let text: string;
    try {
      // Buffer#toString, as drizzle does, so the hash is computed over the same string.
      text = (await readFile(sqlPath)).toString();
    } catch (err) {
      throw folderError(
        `the journal lists migration ${entry.tag} but ${sqlPath} is missing`,
        `restore ${entry.tag}.sql from version control; never delete a migration that may have been applied`,
        { dir, tag: entry.tag, file: sqlPath },
        err,
      );
    }
    files.push({
      idx: entry.idx,
      tag: entry.tag,
      when: entry.when,
      hash: createHash("sha256").update(text).digest("hex"),
      statements: text
        .split(STATEMENT_BREAKPOINT)
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    });
  }
  return files;
}
