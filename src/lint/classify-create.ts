import type { ColumnDef, ForeignKeyDef, Operation } from "./operations.js";
import { Cursor, nameList, splitTop, type Token } from "./tokens.js";

/** Functions whose default differs per row: PostgreSQL rewrites the table to fill them in. */
const VOLATILE = new Set([
  "RANDOM",
  "GEN_RANDOM_UUID",
  "UUID_GENERATE_V1",
  "UUID_GENERATE_V4",
  "CLOCK_TIMESTAMP",
  "TIMEOFDAY",
  "NEXTVAL",
  "UUID",
]);
const SERIAL = /^(small|big)?serial\b/;
const CONSTRAINT_WORDS = [
  "NOT",
  "NULL",
  "DEFAULT",
  "PRIMARY",
  "UNIQUE",
  "REFERENCES",
  "CHECK",
  "CONSTRAINT",
  "COLLATE",
  "GENERATED",
  "AUTO_INCREMENT",
  "AUTOINCREMENT",
  "ON",
  "COMMENT",
  "AS",
];

/** `REFERENCES parent (cols) [ON DELETE action]` from the cursor, the child's columns given. */
export function references(c: Cursor, columns: string[]): ForeignKeyDef | null {
  if (!c.words("REFERENCES")) return null;
  const table = c.name() ?? "";
  const refColumns = c.sign("(") ? (nameList(c.group()) ?? []) : [];
  let onDelete: string | null = null;
  while (!c.done) {
    if (c.words("ON", "DELETE")) {
      const a = c.next()?.value ?? "";
      onDelete = a === "SET" || a === "NO" ? `${a} ${c.next()?.value ?? ""}` : a;
    } else if (c.peek()?.kind === "sign" && c.peek()?.value === ",") break;
    else c.next();
  }
  return { columns, table, refColumns, onDelete };
}

/** The text of tokens, lower-cased: a type as written. */
function typeText(tokens: Token[]): string {
  let out = "";
  for (const t of tokens) {
    const v = t.kind === "word" ? (t.text ?? t.value).toLowerCase() : t.value;
    out += out === "" || t.kind === "sign" || out.endsWith("(") ? v : ` ${v}`;
  }
  return out.replace(/ \(/g, "(");
}

/** A column definition: `name type [constraints]`. */
export function columnDef(tokens: Token[]): ColumnDef {
  const c = new Cursor(tokens);
  const name = c.name() ?? "";
  const type: Token[] = [];
  while (!c.done && !(c.peek()?.kind === "word" && CONSTRAINT_WORDS.includes(c.peek()?.value ?? ""))) type.push(c.next() as Token);
  const def: ColumnDef = {
    name,
    type: typeText(type),
    notNull: false,
    hasDefault: false,
    volatileDefault: SERIAL.test(typeText(type)),
    unique: false,
    references: null,
  };
  while (!c.done) {
    if (c.words("NOT", "NULL")) def.notNull = true;
    else if (c.words("PRIMARY", "KEY")) def.notNull = true;
    else if (c.words("UNIQUE")) def.unique = true;
    else if (c.words("DEFAULT")) {
      const first = c.peek();
      if (first?.kind === "word" && first.value === "NULL") c.next();
      else def.hasDefault = true;
      // the default's own tokens, up to the next constraint word
      while (!c.done && !(c.peek()?.kind === "word" && CONSTRAINT_WORDS.includes(c.peek()?.value ?? "") && c.peek()?.value !== "ON")) {
        const t = c.next() as Token;
        if (t.kind === "word" && VOLATILE.has(t.value)) def.volatileDefault = true;
        if (t.kind === "sign" && t.value === "(") c.group();
      }
    } else if (c.peek()?.kind === "word" && c.peek()?.value === "REFERENCES") def.references = references(c, [name]);
    else if (c.words("GENERATED") || c.words("AUTO_INCREMENT") || c.words("AUTOINCREMENT")) def.hasDefault = true;
    else c.next();
  }
  return def;
}

/** `CREATE TABLE [IF NOT EXISTS] t (columns, constraints)`, the cursor after TABLE. */
export function createTable(c: Cursor): Operation {
  c.words("IF", "NOT", "EXISTS");
  const table = c.name();
  if (table === null || !c.sign("(")) return { op: "other" };
  const columns: ColumnDef[] = [];
  const foreignKeys: ForeignKeyDef[] = [];
  const uniques: string[][] = [];
  for (const part of splitTop(c.group())) {
    const p = new Cursor(part);
    if (p.words("CONSTRAINT")) p.name();
    if (p.words("FOREIGN", "KEY") && p.sign("(")) {
      const fk = references(p, nameList(p.group()) ?? []);
      if (fk) foreignKeys.push(fk);
    } else if (p.words("UNIQUE") || p.words("PRIMARY", "KEY")) {
      p.words("KEY") || p.words("INDEX");
      if (p.peek()?.kind !== "sign") p.name();
      const cols = p.sign("(") ? nameList(p.group()) : null;
      if (cols) uniques.push(cols);
    } else if (p.words("CHECK") || p.words("KEY") || p.words("INDEX")) {
      // not a column
    } else {
      const col = columnDef(part);
      columns.push(col);
      if (col.references) foreignKeys.push(col.references);
      if (col.unique) uniques.push([col.name]);
    }
  }
  return { op: "createTable", table, columns, foreignKeys, uniques };
}

/** `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON t [USING m] (cols) [WHERE ...]`, after CREATE. */
export function createIndex(c: Cursor): Operation {
  const unique = c.words("UNIQUE");
  if (!c.words("INDEX")) return { op: "other" };
  const concurrently = c.words("CONCURRENTLY");
  c.words("IF", "NOT", "EXISTS");
  if (!(c.peek()?.kind === "word" && c.peek()?.value === "ON")) c.name();
  if (!c.words("ON")) return { op: "other" };
  c.words("ONLY");
  const table = c.name();
  if (table === null) return { op: "other" };
  if (c.words("USING")) c.next();
  const columns = c.sign("(") ? nameList(c.group()) : null;
  const partial = c.tokens.some((t) => t.kind === "word" && t.value === "WHERE");
  return { op: "createIndex", table, columns, unique, concurrently, partial };
}
