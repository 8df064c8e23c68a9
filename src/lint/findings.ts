/**
 * What a finding means for a run: `destructive` destroys data (refused unless allowed),
 * `willFail` makes the migration fail on this data (refused), `cost` holds locks or rewrites a
 * large table on a server, `cascade` deletes child rows through `ON DELETE CASCADE` (both logged).
 */
export type FindingKind = "destructive" | "willFail" | "cost" | "cascade";

/** The lint's rules, by name: each finding names the one that found it. */
export type LintRule =
  | "drop-table"
  | "drop-column"
  | "rebuild-drops-column"
  | "narrowing-type"
  | "truncate"
  | "delete-all"
  | "not-null"
  | "unique"
  | "foreign-key"
  | "index-lock"
  | "table-rewrite"
  | "copy-alter"
  | "cascade";

/** What a rule found about one statement, with exact counts. */
export interface RuleFinding {
  rule: LintRule;
  kind: FindingKind;
  table: string;
  column?: string;
  /** Rows destroyed, offending, or at stake. */
  rows?: number;
  /** Non-null values destroyed, or values that do not fit or are duplicated. */
  values?: number;
  /** The table's size on disk, for a `cost` finding. */
  bytes?: number;
  /** One sentence for the operator. */
  message: string;
}

/** One finding of the lint about one statement of a pending migration, with exact counts. */
export interface LintFinding extends RuleFinding {
  /** The migration's tag. */
  migration: string;
  /** The statement's index in the migration (drizzle-kit's `--> statement-breakpoint` split), from 0. */
  statement: number;
  /** The statement, shortened to one line of at most 120 characters. */
  sql: string;
}

/** The statement as one short line. */
export function excerpt(sql: string): string {
  const line = sql.replace(/\s+/g, " ").trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** `n thing` or `n things`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A size for a message: bytes, kB, MB or GB. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
