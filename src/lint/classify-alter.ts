import { columnDef, references } from "./classify-create.js";
import type { Operation } from "./operations.js";
import { Cursor, nameList, type Token } from "./tokens.js";

const NOT_A_COLUMN = ["CONSTRAINT", "INDEX", "KEY", "FOREIGN", "PRIMARY", "CHECK", "UNIQUE", "FULLTEXT", "SPATIAL", "PARTITION", "DEFAULT"];

/** `ADD ...` of an ALTER TABLE. */
function add(c: Cursor, table: string, algorithm: string | null): Operation[] {
  if (c.words("CONSTRAINT")) {
    if (!["FOREIGN", "UNIQUE", "PRIMARY", "CHECK"].includes(c.peek()?.value ?? "") || c.peek()?.kind !== "word") c.name();
  }
  if (c.words("FOREIGN", "KEY")) {
    if (c.peek()?.kind !== "sign") c.name();
    if (!c.sign("(")) return [];
    const fk = references(c, nameList(c.group()) ?? []);
    const notValid = c.tokens.some((t, i) => t.value === "NOT" && c.tokens[i + 1]?.value === "VALID");
    return fk ? [{ op: "addForeignKey", table, foreignKey: fk, notValid, algorithm }] : [];
  }
  const unique = c.words("UNIQUE") || c.words("PRIMARY", "KEY");
  if (unique || c.peek()?.value === "INDEX" || c.peek()?.value === "KEY") {
    c.words("INDEX") || c.words("KEY");
    if (c.peek()?.kind !== "sign") c.name();
    const columns = c.sign("(") ? nameList(c.group()) : null;
    return [{ op: "createIndex", table, columns, unique, concurrently: false, partial: false }];
  }
  if (c.peek()?.kind === "word" && ["CHECK", "FULLTEXT", "SPATIAL", "PARTITION"].includes(c.peek()?.value ?? "")) return [];
  c.words("COLUMN");
  c.words("IF", "NOT", "EXISTS");
  return [{ op: "addColumn", table, column: columnDef(c.rest()) }];
}

/** `MODIFY col def` / `CHANGE old new def` (MySQL). */
function modify(c: Cursor, table: string, algorithm: string | null, renames: boolean): Operation[] {
  c.words("COLUMN");
  const from = renames ? c.name() : null;
  const def = columnDef(c.rest());
  const ops: Operation[] = [];
  if (from !== null && from !== def.name) ops.push({ op: "renameColumn", table, from, to: def.name });
  ops.push({ op: "alterType", table, column: def.name, type: def.type, algorithm });
  if (def.notNull) ops.push({ op: "setNotNull", table, column: def.name });
  return ops;
}

/** `ALTER [COLUMN] c ...` (PostgreSQL). */
function alterColumn(c: Cursor, table: string, algorithm: string | null): Operation[] {
  c.words("COLUMN");
  const column = c.name();
  if (column === null) return [];
  if (c.words("SET", "NOT", "NULL")) return [{ op: "setNotNull", table, column }];
  if (c.words("SET", "DATA", "TYPE") || c.words("TYPE")) {
    const type: string[] = [];
    while (!c.done && !(c.peek()?.kind === "word" && ["USING", "COLLATE"].includes(c.peek()?.value ?? ""))) {
      const t = c.next() as Token;
      type.push(t.kind === "word" ? (t.text ?? t.value).toLowerCase() : t.value);
    }
    return [
      { op: "alterType", table, column, type: type.join(" ").replace(/ \( /g, "(").replace(/ \)/g, ")").replace(/ , /g, ","), algorithm },
    ];
  }
  return [];
}

/** One action of an ALTER TABLE. */
function action(tokens: Token[], table: string, algorithm: string | null): Operation[] {
  const c = new Cursor(tokens);
  if (c.words("ADD")) return add(c, table, algorithm);
  if (c.words("MODIFY")) return modify(c, table, algorithm, false);
  if (c.words("CHANGE")) return modify(c, table, algorithm, true);
  if (c.words("ALTER")) return alterColumn(c, table, algorithm);
  if (c.words("RENAME", "COLUMN")) {
    const from = c.name();
    c.words("TO");
    const to = c.name();
    return from && to ? [{ op: "renameColumn", table, from, to }] : [];
  }
  if (c.words("RENAME")) {
    c.words("TO") || c.words("AS");
    const to = c.name();
    return to ? [{ op: "renameTable", from: table, to }] : [];
  }
  if (c.words("DROP")) {
    const explicit = c.words("COLUMN");
    if (!explicit && c.peek()?.kind !== "name" && NOT_A_COLUMN.includes(c.peek()?.value ?? "")) return [];
    c.words("IF", "EXISTS");
    const column = c.name();
    return column ? [{ op: "dropColumn", table, column }] : [];
  }
  return [];
}

/** `ALTER TABLE [IF EXISTS] [ONLY] t action, action...`, the cursor after TABLE. */
export function alterTable(c: Cursor): Operation[] {
  c.words("IF", "EXISTS");
  c.words("ONLY");
  const table = c.name();
  if (table === null) return [{ op: "other" }];
  const actions = c.restByComma();
  let algorithm: string | null = null;
  for (const a of actions) {
    const k = new Cursor(a);
    if (k.words("ALGORITHM")) {
      k.sign("=");
      algorithm = k.next()?.value ?? null;
    }
  }
  const ops = actions.flatMap((a) => action(a, table, algorithm));
  return ops.length > 0 ? ops : [{ op: "other" }];
}
