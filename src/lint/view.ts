import type { DataSnapshot, SnapshotColumn } from "../adapters/types.js";

/**
 * Where a column's values come from while the pending set is read: a column of the snapshot
 * (`from`), one non-null constant in every row, NULL in every row, no NULL but values unknown,
 * or unknown.
 */
export type ColumnSource = { from: string } | { constant: true } | { nulls: true } | { noNulls: true } | { unknown: true };

/** A table as the statements read so far leave it: which snapshot table holds its rows, and its columns. */
export interface TableView {
  /** The snapshot's table holding its rows; null when the set created it (or emptied it). */
  base: string | null;
  /** `base`: the base table's rows; `empty`: none; `unknown`: rows the lint cannot count. */
  rows: "base" | "empty" | "unknown";
  columns: Map<string, ColumnSource>;
  /** Current types of the snapshot's columns, by column. */
  types: Map<string, SnapshotColumn>;
  /** Set by `INSERT INTO t SELECT ... FROM x` into a new table: the table it copies (drizzle's rebuild). */
  copyOf?: string;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The pending set's view of the data: snapshot tables read lazily, then changed by each
 * statement as it is read, so a later statement is evaluated with what the set put there.
 */
export class PendingView {
  private readonly views = new Map<string, TableView | null>();
  private names: Promise<string[]> | undefined;
  constructor(readonly snapshot: DataSnapshot) {}

  /** The table's view, or null when it does not exist (dropped, or never there). */
  async table(name: string): Promise<TableView | null> {
    const key = name.toLowerCase();
    if (this.views.has(key)) return this.views.get(key) ?? null;
    this.names ??= this.snapshot.tables();
    const names = await this.names;
    const real = names.find((n) => n === name) ?? names.find((n) => same(n, name));
    if (real === undefined) return null;
    const cols = await this.snapshot.columns(real);
    const view: TableView = {
      base: real,
      rows: "base",
      columns: new Map(cols.map((c) => [c.name.toLowerCase(), { from: c.name }])),
      types: new Map(cols.map((c) => [c.name.toLowerCase(), c])),
    };
    this.views.set(key, view);
    return view;
  }

  /** The table's view when the set already touched it (no read). */
  peek(name: string): TableView | null | undefined {
    return this.views.get(name.toLowerCase());
  }

  set(name: string, view: TableView | null): void {
    this.views.set(name.toLowerCase(), view);
  }

  /** A column's source (unknown when the table has no such column as far as the lint knows). */
  source(view: TableView, column: string): ColumnSource {
    return view.columns.get(column.toLowerCase()) ?? { unknown: true };
  }

  /** The snapshot column a source reads, with its type, or null. */
  snapshotColumn(view: TableView, column: string): SnapshotColumn | null {
    const s = this.source(view, column);
    return "from" in s ? (view.types.get(s.from.toLowerCase()) ?? null) : null;
  }

  private q(view: TableView): string {
    return this.snapshot.quote(view.base as string);
  }

  /** Rows of the table, or null when unknown. */
  async rows(view: TableView): Promise<number | null> {
    if (view.rows === "empty") return 0;
    if (view.rows === "unknown" || view.base === null) return null;
    return this.snapshot.count(`SELECT COUNT(*) AS n FROM ${this.q(view)}`);
  }

  /** Rows where the column is not NULL. */
  async nonNull(view: TableView, column: string): Promise<number | null> {
    const s = this.source(view, column);
    if ("nulls" in s) return 0;
    if ("constant" in s || "noNulls" in s) return this.rows(view);
    if ("unknown" in s || view.rows !== "base") return view.rows === "empty" ? 0 : null;
    return this.snapshot.count(`SELECT COUNT(${this.snapshot.quote(s.from)}) AS n FROM ${this.q(view)}`);
  }

  /** Rows where the column is NULL. */
  async nulls(view: TableView, column: string): Promise<number | null> {
    const [rows, nonNull] = [await this.rows(view), await this.nonNull(view, column)];
    return rows === null || nonNull === null ? null : rows - nonNull;
  }

  /** The snapshot columns behind `columns`, or null when one is not a plain snapshot column. */
  fromColumns(view: TableView, columns: string[]): string[] | null {
    const out: string[] = [];
    for (const c of columns) {
      const s = this.source(view, c);
      if (!("from" in s)) return null;
      out.push(s.from);
    }
    return out;
  }

  /** Rows that share their (non-null) key with another row, and how many keys are shared. */
  async duplicates(view: TableView, columns: string[]): Promise<{ rows: number; values: number } | null> {
    if (view.rows === "empty") return { rows: 0, values: 0 };
    const sources = columns.map((c) => this.source(view, c));
    if (sources.some((s) => "nulls" in s)) return { rows: 0, values: 0 };
    const varying = columns.filter((_, i) => !("constant" in (sources[i] as ColumnSource)));
    if (varying.length === 0) {
      const rows = await this.rows(view);
      return rows === null ? null : rows > 1 ? { rows, values: 1 } : { rows: 0, values: 0 };
    }
    const cols = this.fromColumns(view, varying);
    if (cols === null || view.rows !== "base") return null;
    const q = cols.map((c) => this.snapshot.quote(c));
    const groups = `SELECT COUNT(*) AS k FROM ${this.q(view)} WHERE ${q.map((c) => `${c} IS NOT NULL`).join(" AND ")} GROUP BY ${q.join(", ")} HAVING COUNT(*) > 1`;
    const rows = await this.snapshot.count(`SELECT COALESCE(SUM(k), 0) AS n FROM (${groups}) d`);
    const values = await this.snapshot.count(`SELECT COUNT(*) AS n FROM (${groups}) d`);
    return { rows, values };
  }

  /** Rows whose (non-null) `columns` match no row of `parent`'s `parentColumns`. */
  async orphans(view: TableView, columns: string[], parent: TableView, parentColumns: string[]): Promise<number | null> {
    if (view.rows === "empty") return 0;
    if (columns.some((c) => "nulls" in this.source(view, c))) return 0;
    const cols = this.fromColumns(view, columns);
    if (cols === null || view.rows !== "base" || parentColumns.length !== columns.length) return null;
    const child = cols.map((c) => `lint_child.${this.snapshot.quote(c)}`);
    const present = child.map((c) => `${c} IS NOT NULL`).join(" AND ");
    if (parent.rows === "empty") return this.snapshot.count(`SELECT COUNT(*) AS n FROM ${this.q(view)} lint_child WHERE ${present}`);
    const pcols = this.fromColumns(parent, parentColumns);
    if (pcols === null || parent.rows !== "base") return null;
    const match = pcols.map((p, i) => `lint_parent.${this.snapshot.quote(p)} = ${child[i]}`).join(" AND ");
    return this.snapshot.count(
      `SELECT COUNT(*) AS n FROM ${this.q(view)} lint_child WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${this.q(parent)} lint_parent WHERE ${match})`,
    );
  }

  /** Values of the column longer than `length` characters. */
  async longerThan(view: TableView, column: string, length: number): Promise<number | null> {
    const s = this.source(view, column);
    if (!("from" in s) || view.rows !== "base") return view.rows === "empty" ? 0 : null;
    const len = this.snapshot.charLength(this.snapshot.quote(s.from));
    return this.snapshot.count(`SELECT COUNT(*) AS n FROM ${this.q(view)} WHERE ${len} > ${Math.trunc(length)}`);
  }

  /** Values of the column outside `[min, max]` (integers, as decimal text). */
  async outside(view: TableView, column: string, min: string, max: string): Promise<number | null> {
    const s = this.source(view, column);
    if (!("from" in s) || view.rows !== "base") return view.rows === "empty" ? 0 : null;
    const c = this.snapshot.quote(s.from);
    return this.snapshot.count(`SELECT COUNT(*) AS n FROM ${this.q(view)} WHERE ${c} < ${min} OR ${c} > ${max}`);
  }

  /** Rows of each `ON DELETE CASCADE` child that reference rows of the view's base table. */
  async cascades(view: TableView): Promise<{ table: string; rows: number }[]> {
    if (view.base === null || view.rows !== "base") return [];
    const out: { table: string; rows: number }[] = [];
    for (const child of await this.snapshot.cascadeChildren(view.base)) {
      const childView = await this.table(child.table);
      if (childView?.base !== child.table || childView.rows !== "base") continue;
      const present = child.columns.map((c) => `${this.snapshot.quote(c)} IS NOT NULL`).join(" AND ");
      const rows = await this.snapshot.count(`SELECT COUNT(*) AS n FROM ${this.snapshot.quote(child.table)} WHERE ${present}`);
      if (rows > 0) out.push({ table: child.table, rows });
    }
    return out;
  }
}
