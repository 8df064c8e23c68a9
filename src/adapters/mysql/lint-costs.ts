import type { CostVerdict, Operation } from "../../lint/operations.js";
import type { SnapshotColumn } from "../types.js";

/** A column type compared without case, spaces or an integer's display width (`int(11)` is `int`). */
function normalType(type: string): string {
  return type
    .toLowerCase()
    .replace(/\s+/g, "")
    .replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, "$1")
    .replace(/^integer/, "int");
}

/**
 * What MySQL and MariaDB do with ALGORITHM=COPY (the table copied row by row, writes waiting):
 * a change of a column's type, and `ADD FOREIGN KEY` with foreign_key_checks on; never when the
 * statement asks for `ALGORITHM=INSTANT` or `INPLACE` (the server refuses it instead). Pure.
 */
export function mysqlCost(op: Operation, column: SnapshotColumn | null): CostVerdict | null {
  if ((op.op === "alterType" || op.op === "addForeignKey") && (op.algorithm === "INSTANT" || op.algorithm === "INPLACE")) return null;
  if (op.op === "alterType" && (!column || normalType(column.type) !== normalType(op.type))) {
    return {
      rule: "copy-alter",
      why: `changing ${op.column}'s type to ${op.type} is ALGORITHM=COPY: the table is copied while writes wait`,
    };
  }
  if (op.op === "addForeignKey") {
    return {
      rule: "copy-alter",
      why: "ADD FOREIGN KEY with foreign_key_checks on is ALGORITHM=COPY: the table is copied while writes wait",
    };
  }
  return null;
}
