// Lints SQL statements as one pending migration against a real database, through the adapter's
// read-only snapshot: what the lint step does, without a run around it.
import type { DatabaseAdapter } from "../../src/adapters/types.js";
import { lintMigrations, type LintOptions } from "../../src/lint/lint.js";
import type { LintFinding } from "../../src/lint/findings.js";

/** The findings of `statements` (one migration, tag `0001_case`), reduced to what a test compares. */
export async function lintStatements(
  db: DatabaseAdapter,
  statements: string[],
  options: LintOptions = {},
): Promise<Partial<LintFinding>[]> {
  const snapshot = await db.readSnapshot(null);
  try {
    const file = { idx: 0, tag: "0001_case", when: 1, hash: "x", statements };
    const found = await lintMigrations([file], snapshot, options);
    return found.map(({ rule, kind, table, column, rows, values, statement }) => ({
      rule,
      kind,
      table,
      statement,
      ...(column === undefined ? {} : { column }),
      ...(rows === undefined ? {} : { rows }),
      ...(values === undefined ? {} : { values }),
    }));
  } finally {
    await snapshot.close();
  }
}
