import type { CostVerdict, Operation } from "../../lint/operations.js";
import type { SnapshotColumn } from "../types.js";

const TEXTUAL = /^(text|character varying|varchar)\b/;

/**
 * What locks or rewrites a table on PostgreSQL: `CREATE INDEX` without `CONCURRENTLY` (writes wait
 * for the whole build), `ALTER COLUMN ... TYPE` (a rewrite under ACCESS EXCLUSIVE, unless text to
 * text or to an unbounded varchar, which is binary coercible), `ADD COLUMN` with a volatile
 * default (every row written). Pure.
 */
export function postgresCost(op: Operation, column: SnapshotColumn | null): CostVerdict | null {
  if (op.op === "createIndex" && !op.concurrently) {
    return { rule: "index-lock", why: "CREATE INDEX without CONCURRENTLY blocks every write to the table while it builds" };
  }
  if (op.op === "alterType") {
    const to = op.type.toLowerCase();
    if (column && TEXTUAL.test(column.type.toLowerCase()) && (to === "text" || to === "varchar" || to === "character varying")) return null;
    return {
      rule: "table-rewrite",
      why: `ALTER COLUMN ${op.column} TYPE ${op.type} rewrites the table and its indexes under an ACCESS EXCLUSIVE lock`,
    };
  }
  if (op.op === "addColumn" && op.column.volatileDefault) {
    return {
      rule: "table-rewrite",
      why: `ADD COLUMN ${op.column.name} with a volatile default rewrites every row under an ACCESS EXCLUSIVE lock`,
    };
  }
  return null;
}
