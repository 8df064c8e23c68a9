/** A foreign key as a statement declares it. */
export interface ForeignKeyDef {
  columns: string[];
  /** The parent table. */
  table: string;
  /** The parent's columns (empty: its primary key, which the lint does not resolve). */
  refColumns: string[];
  /** `ON DELETE` action, upper-cased (`CASCADE`, `SET NULL`...), null when not given. */
  onDelete: string | null;
}

/** A column as `CREATE TABLE` or `ADD COLUMN` declares it. */
export interface ColumnDef {
  name: string;
  /** The declared type as written, lower-cased (`varchar(255)`, `integer`). */
  type: string;
  notNull: boolean;
  /** A `DEFAULT` that is not NULL. */
  hasDefault: boolean;
  /** The default calls a volatile function (a rewrite of every row on PostgreSQL). */
  volatileDefault: boolean;
  unique: boolean;
  references: ForeignKeyDef | null;
}

/**
 * What one SQL statement does to the data, as the lint reads it (one statement may hold several,
 * e.g. an `ALTER TABLE` with several actions). Names are as written, unquoted; `other` is every
 * statement the lint has nothing to say about.
 */
export type Operation =
  | { op: "dropTable"; table: string }
  | { op: "truncate"; table: string }
  | { op: "deleteAll"; table: string }
  | { op: "createTable"; table: string; columns: ColumnDef[]; foreignKeys: ForeignKeyDef[]; uniques: string[][] }
  /** `INSERT INTO table (columns) SELECT sources FROM from`: `sources[i]` feeds `columns[i]` (null: an expression). */
  | { op: "insertSelect"; table: string; columns: string[]; sources: (string | null)[]; from: string }
  /** Any other INSERT: the table gets rows the lint does not count. */
  | { op: "insert"; table: string }
  | { op: "renameTable"; from: string; to: string }
  | { op: "addColumn"; table: string; column: ColumnDef }
  | { op: "dropColumn"; table: string; column: string }
  | { op: "renameColumn"; table: string; from: string; to: string }
  | { op: "setNotNull"; table: string; column: string }
  /** A column's type changed; `algorithm` is MySQL's `ALGORITHM=` when the statement gives one. */
  | { op: "alterType"; table: string; column: string; type: string; algorithm: string | null }
  | { op: "createIndex"; table: string; columns: string[] | null; unique: boolean; concurrently: boolean; partial: boolean }
  | { op: "addForeignKey"; table: string; foreignKey: ForeignKeyDef; notValid: boolean; algorithm: string | null }
  /**
   * `UPDATE`: each assigned column, whether to a non-null constant, and which rows: `all` (no
   * WHERE), `nulls` (`WHERE column IS NULL`), `some` (any other WHERE).
   */
  | { op: "update"; table: string; sets: { column: string; constant: boolean; rows: "all" | "nulls" | "some" }[] }
  | { op: "other" };

/** The kind of operation. */
export type OperationKind = Operation["op"];

/** A server's verdict on an operation that locks or rewrites its table: the rule, and why. */
export interface CostVerdict {
  rule: "index-lock" | "table-rewrite" | "copy-alter";
  why: string;
}
