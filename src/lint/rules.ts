import type { ForeignKeyDef, Operation } from "./operations.js";
import { plural, type RuleFinding } from "./findings.js";
import { limitOf, measurable } from "./narrowing.js";
import type { ColumnSource, PendingView, TableView } from "./view.js";

/** Tables created by the set, with their declarations, for the checks of a rebuild's copy. */
export type Created = Map<string, Extract<Operation, { op: "createTable" }>>;

const key = (name: string) => name.toLowerCase();

async function cascade(view: PendingView, t: TableView, what: string): Promise<RuleFinding[]> {
  return (await view.cascades(t)).map((c) => ({
    rule: "cascade" as const,
    kind: "cascade" as const,
    table: c.table,
    rows: c.rows,
    message: `${what} deletes ${plural(c.rows, "row")} of ${c.table} with it (ON DELETE CASCADE)`,
  }));
}

async function foreignKey(view: PendingView, t: TableView, table: string, fk: ForeignKeyDef, columns: string[]): Promise<RuleFinding[]> {
  const parent = key(fk.table) === key(table) ? t : await view.table(fk.table);
  if (!parent || fk.refColumns.length === 0) return [];
  const n = await view.orphans(t, columns, parent, fk.refColumns);
  if (!n) return [];
  const ref = `${fk.table}(${fk.refColumns.join(", ")})`;
  return [
    {
      rule: "foreign-key",
      kind: "willFail",
      table,
      column: fk.columns.join(", "),
      rows: n,
      message: `the foreign key ${table}(${fk.columns.join(", ")}) -> ${ref} is violated by ${plural(n, "row")} of ${table} (no matching ${fk.table} row)`,
    },
  ];
}

async function unique(view: PendingView, t: TableView, table: string, columns: string[]): Promise<RuleFinding[]> {
  const d = await view.duplicates(t, columns);
  if (!d?.rows) return [];
  const cols = columns.join(", ");
  return [
    {
      rule: "unique",
      kind: "willFail",
      table,
      column: cols,
      rows: d.rows,
      values: d.values,
      message: `a UNIQUE index on ${table}(${cols}) over duplicates: ${plural(d.rows, "row")} share ${plural(d.values, "value")}`,
    },
  ];
}

async function notNull(view: PendingView, t: TableView, table: string, column: string, how: string): Promise<RuleFinding[]> {
  const n = await view.nulls(t, column);
  if (!n) return [];
  return [
    {
      rule: "not-null",
      kind: "willFail",
      table,
      column,
      rows: n,
      message: `${how} ${table}.${column} NOT NULL, but ${plural(n, "row")} ${n === 1 ? "holds" : "hold"} NULL there`,
    },
  ];
}

/**
 * `INSERT INTO t (cols) SELECT ... FROM x` into a table the set created: drizzle's rebuild of x.
 * The copy fails on a NOT NULL column fed NULLs, a UNIQUE over duplicates, a foreign key the rows
 * violate; after it, t holds x's rows.
 */
async function copy(view: PendingView, created: Created, op: Extract<Operation, { op: "insertSelect" }>): Promise<RuleFinding[]> {
  const target = await view.table(op.table);
  const source = await view.table(op.from);
  const decl = created.get(key(op.table));
  if (!target || !source || !decl || target.rows !== "empty") {
    if (target) view.set(op.table, { ...target, rows: "unknown", columns: new Map() });
    return [];
  }
  const columns = new Map<string, ColumnSource>();
  for (const col of decl.columns) {
    const i = op.columns.findIndex((c) => key(c) === key(col.name));
    const from = i < 0 ? null : op.sources[i];
    if (i < 0) columns.set(key(col.name), col.hasDefault ? { constant: true } : { nulls: true });
    else columns.set(key(col.name), from ? view.source(source, from) : { unknown: true });
  }
  const filled: TableView = { base: source.base, rows: source.rows, columns, types: source.types, copyOf: op.from };
  const table = op.from;
  const out: RuleFinding[] = [];
  for (const col of decl.columns.filter((c) => c.notNull)) out.push(...(await notNull(view, filled, table, col.name, "the rebuild makes")));
  for (const cols of decl.uniques) out.push(...(await unique(view, filled, table, cols)));
  for (const fk of decl.foreignKeys) out.push(...(await foreignKey(view, filled, table, fk, fk.columns)));
  view.set(op.table, filled);
  return out;
}

/** DROP TABLE x: the end of a rebuild (a new table holds x's rows) or the loss of its rows. */
async function drop(view: PendingView, created: Created, table: string): Promise<RuleFinding[]> {
  const t = await view.table(table);
  if (!t) return [];
  const out: RuleFinding[] = [];
  const rebuilt = [...created.keys()].map((n) => view.peek(n)).find((v) => v?.copyOf !== undefined && key(v.copyOf) === key(table));
  if (rebuilt) {
    const kept = new Set([...rebuilt.columns.values()].flatMap((s) => ("from" in s ? [key(s.from)] : [])));
    for (const [name, s] of t.columns) {
      if (!("from" in s) || kept.has(key(s.from))) continue;
      const n = await view.nonNull(t, name);
      if (n) {
        out.push({
          rule: "rebuild-drops-column",
          kind: "destructive",
          table,
          column: s.from,
          values: n,
          message: `the rebuild of ${table} drops column ${s.from}, destroying ${plural(n, "non-null value")}`,
        });
      }
    }
    out.push(...(await cascade(view, t, `the rebuild of ${table} (DROP TABLE ${table})`)));
  } else {
    const rows = await view.rows(t);
    if (rows)
      out.push({ rule: "drop-table", kind: "destructive", table, rows, message: `DROP TABLE ${table} destroys ${plural(rows, "row")}` });
    out.push(...(await cascade(view, t, `DROP TABLE ${table}`)));
  }
  view.set(table, null);
  return out;
}

/** DELETE without WHERE or TRUNCATE: every row goes. */
async function empty(view: PendingView, table: string, rule: "truncate" | "delete-all"): Promise<RuleFinding[]> {
  const t = await view.table(table);
  if (!t) return [];
  const rows = await view.rows(t);
  const what = rule === "truncate" ? `TRUNCATE ${table}` : `DELETE FROM ${table} without WHERE`;
  const out: RuleFinding[] = rows ? [{ rule, kind: "destructive", table, rows, message: `${what} destroys ${plural(rows, "row")}` }] : [];
  out.push(...(await cascade(view, t, what)));
  view.set(table, { base: null, rows: "empty", columns: new Map([...t.columns.keys()].map((c) => [c, { nulls: true }])), types: t.types });
  return out;
}

/** A narrowing type change: values that do not fit the new type. */
async function narrowing(view: PendingView, t: TableView, op: Extract<Operation, { op: "alterType" }>): Promise<RuleFinding[]> {
  const limit = limitOf(op.type);
  const current = view.snapshotColumn(t, op.column);
  if (!limit || !current || !measurable(current.type, limit)) return [];
  const n = "length" in limit ? await view.longerThan(t, op.column, limit.length) : await view.outside(t, op.column, limit.min, limit.max);
  if (!n) return [];
  const why = "length" in limit ? `longer than ${limit.length} characters` : `outside ${limit.name}'s range ${limit.min}..${limit.max}`;
  return [
    {
      rule: "narrowing-type",
      kind: "destructive",
      table: op.table,
      column: op.column,
      values: n,
      message: `${op.table}.${op.column} becomes ${op.type}: ${plural(n, "value")} ${n === 1 ? "is" : "are"} ${why}`,
    },
  ];
}

/**
 * The data rules of one operation (destructive, willFail, cascade), evaluated on the view; the
 * view then reflects the operation. Cost rules are in `cost.ts`.
 */
export async function dataRules(view: PendingView, created: Created, op: Operation): Promise<RuleFinding[]> {
  switch (op.op) {
    case "createTable":
      created.set(key(op.table), op);
      view.set(op.table, {
        base: null,
        rows: "empty",
        columns: new Map(op.columns.map((c) => [key(c.name), c.hasDefault ? { constant: true } : { nulls: true }])),
        types: new Map(),
      });
      return [];
    case "insertSelect":
      return copy(view, created, op);
    case "insert": {
      const t = await view.table(op.table);
      if (t) view.set(op.table, { ...t, rows: "unknown", columns: new Map() });
      return [];
    }
    case "renameTable": {
      const t = await view.table(op.from);
      view.set(op.from, null);
      view.set(op.to, t);
      return [];
    }
    case "dropTable":
      return drop(view, created, op.table);
    case "truncate":
      return empty(view, op.table, "truncate");
    case "deleteAll":
      return empty(view, op.table, "delete-all");
    default:
      return columnRules(view, op);
  }
}

/** The rules of an operation on the columns of an existing table. */
async function columnRules(view: PendingView, op: Operation): Promise<RuleFinding[]> {
  if (op.op === "other" || !("table" in op)) return [];
  const t = await view.table(op.table);
  if (!t) return [];
  switch (op.op) {
    case "addColumn":
      t.columns.set(key(op.column.name), op.column.hasDefault ? { constant: true } : { nulls: true });
      return [];
    case "dropColumn": {
      const n = await view.nonNull(t, op.column);
      t.columns.delete(key(op.column));
      if (!n) return [];
      const message = `DROP COLUMN ${op.table}.${op.column} destroys ${plural(n, "non-null value")}`;
      return [{ rule: "drop-column", kind: "destructive", table: op.table, column: op.column, values: n, message }];
    }
    case "renameColumn": {
      const s = view.source(t, op.from);
      t.columns.delete(key(op.from));
      t.columns.set(key(op.to), s);
      return [];
    }
    case "setNotNull":
      return notNull(view, t, op.table, op.column, "the migration makes");
    case "alterType":
      return narrowing(view, t, op);
    case "createIndex":
      return op.unique && op.columns && !op.partial ? unique(view, t, op.table, op.columns) : [];
    case "addForeignKey":
      return op.notValid ? [] : foreignKey(view, t, op.table, op.foreignKey, op.foreignKey.columns);
    case "update":
      for (const s of op.sets) {
        const before = view.source(t, s.column);
        const after: ColumnSource =
          !s.constant || s.rows === "some"
            ? { unknown: true }
            : s.rows === "all" || "nulls" in before
              ? { constant: true }
              : "constant" in before
                ? before
                : { noNulls: true };
        t.columns.set(key(s.column), after);
      }
      return [];
    default:
      return [];
  }
}
