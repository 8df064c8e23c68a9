export { classify } from "./classify.js";
export { LARGE_TABLE_BYTES } from "./cost.js";
export type { FindingKind, LintFinding, LintRule } from "./findings.js";
export { findingLines, lintFolder, lintMigrations, type LintOptions, type LintReport } from "./lint.js";
export type { ColumnDef, CostVerdict, ForeignKeyDef, Operation } from "./operations.js";
