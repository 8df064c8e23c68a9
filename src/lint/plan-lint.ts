import type { DatabaseAdapter } from "../adapters/types.js";
import type { ResolvedConfig } from "../config/types.js";
import { drizzleFolderFor, TO_VERSION } from "../migrations/target-folder.js";
import type { LintFinding } from "./findings.js";
import { lintFolder } from "./lint.js";

/** The lint in `plan`: what was read, and the findings of each pending migration. */
export interface PlanLint {
  /** The snapshot read: the live database, read-only. */
  source: string;
  /** Each pending migration (by tag, in order) with its statements' findings (none: an empty list). */
  migrations: { migration: string; findings: LintFinding[] }[];
}

/**
 * The lint of the pending migrations of the version `toVersion`, on the live database read-only
 * (a SQLite file opened read-only; a server in one REPEATABLE READ, READ ONLY transaction).
 * Null when there is nothing to lint: `"lint": false`, no drizzle folder, a folder naming
 * `{toVersion}` without a target version, or no database yet.
 */
export async function planLint(
  config: ResolvedConfig,
  db: DatabaseAdapter,
  toVersion: string | null,
  exists: boolean,
): Promise<PlanLint | null> {
  const m = config.migrations;
  if (config.lint === false || !m || !("drizzle" in m) || !exists) return null;
  if (m.drizzle.includes(TO_VERSION) && toVersion === null) return null;
  const folder = drizzleFolderFor(config, toVersion) as string;
  const snapshot = await db.readSnapshot(null);
  try {
    const lintConfig = config.lint ?? {};
    const report = await lintFolder(
      folder,
      snapshot,
      lintConfig.largeTableBytes === undefined ? {} : { largeTableBytes: lintConfig.largeTableBytes },
    );
    return {
      source: snapshot.source,
      migrations: report.pending.map((migration) => ({ migration, findings: report.findings.filter((f) => f.migration === migration) })),
    };
  } finally {
    await snapshot.close();
  }
}

/** The plan's lines for the lint: per pending migration, its findings (or that it has none). */
export function planLintLines(lint: PlanLint): string[] {
  const lines = [`lint (read from ${lint.source}):`];
  for (const m of lint.migrations) {
    lines.push(`  ${m.migration}: ${m.findings.length === 0 ? "no finding" : ""}`.trimEnd());
    for (const f of m.findings) lines.push(`    #${f.statement} [${f.kind} ${f.rule}] ${f.message}`);
  }
  if (lint.migrations.length === 0) lines.push("  no pending migration");
  return lines;
}
