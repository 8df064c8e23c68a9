import { UpgradeError } from "../errors.js";
import { findingLines, lintFolder } from "../lint/lint.js";
import type { LintFinding } from "../lint/findings.js";
import { drizzleFolderFor } from "../migrations/target-folder.js";
import { maybeOutputOf } from "./output-of.js";
import type { LintOutput } from "./outputs.js";
import type { BuiltInStep, StepContext } from "./types.js";

const NOTHING_CHANGED = "nothing was changed: no announcement, no stop";

function listed(findings: LintFinding[]): string {
  return findings.map((f) => `${f.migration}: ${f.message}`).join("; ");
}

/** Whether destructive findings are allowed: `--allow-destructive` on the run, or the config. */
function allowed(ctx: StepContext): boolean {
  const lint = ctx.config.lint;
  return ctx.allowDestructive === true || (lint !== undefined && lint !== false && lint.destructive === "allow");
}

/**
 * The data-aware lint of the pending migrations of the version being installed
 * (`drizzleFolderFor`), planned against what the snapshot records as applied and measured on a
 * read-only snapshot: the hot backup on SQLite, the live database in one REPEATABLE READ
 * transaction on a server. Before the announcement: a migration that will fail on this data
 * (E_LINT_WILL_FAIL) or destroys data without leave (E_LINT_DESTRUCTIVE) ends the run aborted,
 * nothing changed. Cost and cascade findings are logged and kept in the output. Read-only, so a
 * re-run after a crash simply reads again.
 */
export const lint: BuiltInStep<"lint"> = {
  skip(ctx) {
    if (ctx.config.lint === false) return '"lint": false in the config';
    const m = ctx.config.migrations;
    if (!m || !("drizzle" in m)) return "no drizzle migrations folder to lint (a migrations command is not read)";
    return undefined;
  },
  async run(ctx) {
    const folder = drizzleFolderFor(ctx.config, ctx.run.toVersion) as string;
    const hot = maybeOutputOf(ctx.run, "backup")?.database ?? null;
    const db = await ctx.database();
    const snapshot = await db.readSnapshot(hot);
    const lintConfig = ctx.config.lint || {};
    let output: LintOutput;
    try {
      const report = await lintFolder(
        folder,
        snapshot,
        lintConfig.largeTableBytes === undefined ? {} : { largeTableBytes: lintConfig.largeTableBytes },
      );
      output = { source: snapshot.source, ...report };
    } finally {
      await snapshot.close();
    }
    const { findings, pending } = output;
    ctx.log(`${pending.length} pending migration(s) read against ${output.source}: ${findings.length} finding(s)`);
    for (const line of findingLines(findings)) ctx.log(line);
    const willFail = findings.filter((f) => f.kind === "willFail");
    const destructive = findings.filter((f) => f.kind === "destructive");
    if (willFail.length > 0) {
      throw new UpgradeError("E_LINT_WILL_FAIL", `a pending migration will fail on this data: ${listed(willFail)}`, {
        hint: `fix the data (or the migration) and run again; ${NOTHING_CHANGED}`,
        details: { findings: willFail, other: findings.filter((f) => f.kind !== "willFail") },
      });
    }
    if (destructive.length > 0 && !allowed(ctx)) {
      throw new UpgradeError("E_LINT_DESTRUCTIVE", `a pending migration destroys data: ${listed(destructive)}`, {
        hint: `if this loss is intended, run again with --allow-destructive (or "lint": {"destructive": "allow"} in the config); ${NOTHING_CHANGED}`,
        details: { findings: destructive, other: findings.filter((f) => f.kind !== "destructive") },
      });
    }
    return output;
  },
};
