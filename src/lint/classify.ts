import { alterTable } from "./classify-alter.js";
import { createIndex, createTable } from "./classify-create.js";
import type { Operation } from "./operations.js";
import { Cursor, nameList, splitTop, tokenize, type Token } from "./tokens.js";

const isWord = (t: Token | undefined, ...words: string[]): boolean => t?.kind === "word" && words.includes(t.value);

/** Names after `DROP TABLE` / `TRUNCATE`: `a, b` (options such as CASCADE dropped). */
function tableList(c: Cursor): string[] {
  return c
    .restByComma()
    .map((part) => new Cursor(part).name())
    .filter((n): n is string => n !== null && !["CASCADE", "RESTRICT", "RESTART", "CONTINUE"].includes(n.toUpperCase()));
}

/** A single non-null constant: a string, a number, TRUE/FALSE, or a time function. */
function isConstant(tokens: Token[]): boolean {
  if (tokens.length === 1) {
    const t = tokens[0] as Token;
    return t.kind === "string" || t.kind === "number" || isWord(t, "TRUE", "FALSE", "CURRENT_TIMESTAMP", "CURRENT_DATE");
  }
  if (tokens.length === 2 && tokens[0]?.value === "-" && tokens[1]?.kind === "number") return true;
  return tokens.length === 3 && isWord(tokens[0], "NOW", "DATETIME") && tokens[1]?.value === "(" && tokens[2]?.value === ")";
}

/** `UPDATE t SET c = v, ... [WHERE ...]`, after UPDATE. */
function update(c: Cursor): Operation {
  const table = c.name();
  if (table === null || !c.words("SET")) return { op: "other" };
  const rest = c.rest();
  const where = rest.findIndex((t) => isWord(t, "WHERE"));
  const assignments = splitTop(where < 0 ? rest : rest.slice(0, where));
  const cond = where < 0 ? [] : rest.slice(where + 1);
  const sets = assignments.map((a) => {
    const k = new Cursor(a);
    const column = k.name() ?? "";
    k.sign("=");
    const onlyNulls =
      cond.length === 3 && (cond[0]?.kind === "name" || cond[0]?.kind === "word") && isWord(cond[1], "IS") && isWord(cond[2], "NULL");
    const nullsOf = onlyNulls ? new Cursor(cond).name() : null;
    const rows =
      where < 0
        ? ("all" as const)
        : nullsOf !== null && nullsOf.toLowerCase() === column.toLowerCase()
          ? ("nulls" as const)
          : ("some" as const);
    return { column, constant: isConstant(k.rest()), rows };
  });
  return { op: "update", table, sets };
}

/** `INSERT INTO t [(cols)] SELECT a, b FROM x` (the rebuild's copy), or any other INSERT. */
function insert(c: Cursor): Operation {
  while (!c.done && !isWord(c.peek(), "INTO")) c.next();
  if (!c.words("INTO")) return { op: "other" };
  const table = c.name();
  if (table === null) return { op: "other" };
  const columns = c.sign("(") ? nameList(c.group()) : null;
  if (!c.words("SELECT") || columns === null) return { op: "insert", table };
  const rest = c.rest();
  const from = rest.findIndex((t) => isWord(t, "FROM"));
  if (from < 0) return { op: "insert", table };
  const after = new Cursor(rest.slice(from + 1));
  const source = after.name();
  const tail = after.rest();
  // a single source table: no join, no alias list; WHERE or ORDER BY would select fewer rows
  if (source === null || tail.some((t) => isWord(t, "JOIN", "WHERE", "UNION", "LIMIT", "GROUP")) || tail.some((t) => t.value === ",")) {
    return { op: "insert", table };
  }
  const sources = splitTop(rest.slice(0, from)).map((expr) => (expr.length === 1 ? new Cursor(expr).name() : null));
  if (sources.length !== columns.length) return { op: "insert", table };
  return { op: "insertSelect", table, columns, sources, from: source };
}

/** What one statement does, read from its tokens. */
function classifyOne(tokens: Token[]): Operation[] {
  const c = new Cursor(tokens);
  if (c.words("DROP", "TABLE")) {
    c.words("IF", "EXISTS");
    return tableList(c).map((table) => ({ op: "dropTable", table }));
  }
  if (c.words("TRUNCATE")) {
    c.words("TABLE");
    c.words("ONLY");
    return tableList(c).map((table) => ({ op: "truncate", table }));
  }
  if (c.words("DELETE", "FROM")) {
    const table = c.name();
    const filtered = c.rest().some((t) => isWord(t, "WHERE", "LIMIT", "USING", "JOIN"));
    return table === null || filtered ? [{ op: "other" }] : [{ op: "deleteAll", table }];
  }
  if (c.words("CREATE")) {
    c.words("TEMPORARY") || c.words("TEMP");
    if (c.words("TABLE")) return [createTable(c)];
    return [createIndex(c)];
  }
  if (c.words("ALTER", "TABLE")) return alterTable(c);
  if (c.words("RENAME", "TABLE")) {
    return c.restByComma().flatMap((part): Operation[] => {
      const k = new Cursor(part);
      const from = k.name();
      k.words("TO");
      const to = k.name();
      return from && to ? [{ op: "renameTable", from, to }] : [];
    });
  }
  if (c.words("INSERT") || c.words("REPLACE")) return [insert(c)];
  if (c.words("UPDATE")) return [update(c)];
  return [{ op: "other" }];
}

/**
 * What a statement does to the data: SQLite, PostgreSQL and MySQL/MariaDB SQL as drizzle-kit
 * generates it, and the common hand-written forms. Pure; `other` for anything else.
 */
export function classify(sql: string): Operation[] {
  return classifyOne(tokenize(sql).filter((t) => !(t.kind === "sign" && t.value === ";")));
}
