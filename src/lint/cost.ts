import { plural, size } from "./findings.js";
import type { Operation } from "./operations.js";
import type { RuleFinding } from "./findings.js";
import type { PendingView } from "./view.js";

/** The default size from which a locking or rewriting operation is reported: 64 MiB. */
export const LARGE_TABLE_BYTES = 64 * 1024 * 1024;

/**
 * The cost rule of one operation on an existing table of at least `largeTableBytes`: the server
 * (`DataSnapshot.costOf`) says whether it locks or rewrites the table; the finding gives its size.
 */
export async function costRules(view: PendingView, op: Operation, largeTableBytes: number): Promise<RuleFinding[]> {
  if (!["createIndex", "alterType", "addColumn", "addForeignKey"].includes(op.op) || !("table" in op)) return [];
  const t = await view.table(op.table);
  if (!t || t.base === null || t.rows !== "base") return [];
  const column = op.op === "alterType" ? view.snapshotColumn(t, op.column) : null;
  const verdict = view.snapshot.costOf(op, column);
  if (!verdict) return [];
  const bytes = await view.snapshot.tableBytes(t.base);
  if (bytes === null || bytes < largeTableBytes) return [];
  const rows = await view.rows(t);
  return [
    {
      rule: verdict.rule,
      kind: "cost",
      table: op.table,
      ...(op.op === "alterType" ? { column: op.column } : {}),
      ...(rows === null ? {} : { rows }),
      bytes,
      message: `${verdict.why}: ${op.table} holds ${rows === null ? "" : `${plural(rows, "row")}, `}${size(bytes)}`,
    },
  ];
}
