import type { DataSnapshot } from "../adapters/types.js";
import { readDrizzleFolder } from "../migrations/drizzle-folder.js";
import { planMigrations } from "../migrations/runner.js";
import type { MigrationFile } from "../migrations/types.js";
import { classify } from "./classify.js";
import { costRules, LARGE_TABLE_BYTES } from "./cost.js";
import { excerpt, type LintFinding } from "./findings.js";
import { dataRules, type Created } from "./rules.js";
import { splitStatements } from "./tokens.js";
import { PendingView } from "./view.js";

/** Options of `lintMigrations`. */
export interface LintOptions {
  /** The size from which a locking or rewriting operation is a `cost` finding; default 64 MiB. */
  largeTableBytes?: number;
}

/**
 * The data-aware lint of pending migrations: each statement classified, then measured on the
 * snapshot (the data before the migrations), a table or column the set itself made evaluated
 * with what the set put there. Reads only; returns every finding, in statement order.
 */
export async function lintMigrations(
  migrations: MigrationFile[],
  snapshot: DataSnapshot,
  options: LintOptions = {},
): Promise<LintFinding[]> {
  const view = new PendingView(snapshot);
  const created: Created = new Map();
  const largeTableBytes = options.largeTableBytes ?? LARGE_TABLE_BYTES;
  const findings: LintFinding[] = [];
  for (const migration of migrations) {
    for (const [statement, text] of migration.statements.entries()) {
      for (const part of splitStatements(text)) {
        for (const op of classify(part)) {
          const found = [...(await costRules(view, op, largeTableBytes)), ...(await dataRules(view, created, op))];
          for (const f of found) findings.push({ ...f, migration: migration.tag, statement, sql: excerpt(part) });
        }
      }
    }
  }
  return findings;
}

/** What the lint of a folder found: the pending migrations (tags) and the findings. */
export interface LintReport {
  pending: string[];
  findings: LintFinding[];
}

/**
 * Lints the migrations of a drizzle-kit folder that the snapshot records as not applied
 * (`planMigrations`: E_CHECKSUM, E_MIGRATION_ORDER... as the migration step would).
 */
export async function lintFolder(folder: string, snapshot: DataSnapshot, options: LintOptions = {}): Promise<LintReport> {
  const plan = planMigrations(await readDrizzleFolder(folder), await snapshot.applied());
  return { pending: plan.pending.map((m) => m.tag), findings: await lintMigrations(plan.pending, snapshot, options) };
}

/** One line per finding: `<migration> #<statement> [<kind> <rule>] <message>`. */
export function findingLines(findings: LintFinding[]): string[] {
  return findings.map((f) => `${f.migration} #${f.statement} [${f.kind} ${f.rule}] ${f.message}`);
}
