/** One token of a SQL statement: a bare word, a quoted name, a string, a number or a sign. */
export interface Token {
  kind: "word" | "name" | "string" | "number" | "sign";
  /** The word upper-cased, the name unquoted, the string unquoted, the sign itself. */
  value: string;
  /** A bare word as written (names keep their case). */
  text?: string;
}

const SIGNS = new Set([
  "(",
  ")",
  ",",
  ";",
  ".",
  "=",
  "<",
  ">",
  "!",
  "+",
  "-",
  "*",
  "/",
  "%",
  "|",
  ":",
  "[",
  "]",
  "?",
  "&",
  "^",
  "~",
  "@",
  "#",
]);

function closing(sql: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < sql.length) {
    if (sql[i] === "\\" && quote === "'") i += 2;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i;
    } else i++;
  }
  return sql.length;
}

/**
 * The tokens of one statement, comments dropped: `"x"`, `` `x` `` and `[x]` are names (never
 * keywords), `'...'` and PostgreSQL's `$tag$...$tag$` are strings. Pure.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) i++;
    else if (c === "-" && sql[i + 1] === "-") i = sql.indexOf("\n", i) < 0 ? sql.length : sql.indexOf("\n", i);
    else if (c === "/" && sql[i + 1] === "*") i = sql.indexOf("*/", i + 2) < 0 ? sql.length : sql.indexOf("*/", i + 2) + 2;
    else if (c === '"' || c === "`" || c === "'") {
      const end = closing(sql, i, c);
      const body = sql
        .slice(i + 1, end)
        .split(c + c)
        .join(c);
      out.push({ kind: c === "'" ? "string" : "name", value: body });
      i = end + 1;
    } else if (c === "[") {
      const end = sql.indexOf("]", i);
      out.push({ kind: "name", value: sql.slice(i + 1, end < 0 ? sql.length : end) });
      i = end < 0 ? sql.length : end + 1;
    } else if (c === "$" && /^\$\w*\$/.test(sql.slice(i))) {
      const tag = (/^\$\w*\$/.exec(sql.slice(i)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      out.push({ kind: "string", value: sql.slice(i + tag.length, end < 0 ? sql.length : end) });
      i = end < 0 ? sql.length : end + tag.length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?/i.exec(sql.slice(i)) as RegExpExecArray;
      out.push({ kind: "number", value: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = /^[\w$\u0080-\uffff]+/.exec(sql.slice(i)) as RegExpExecArray;
      out.push({ kind: "word", value: m[0].toUpperCase(), text: m[0] });
      i += m[0].length;
    } else {
      if (SIGNS.has(c)) out.push({ kind: "sign", value: c });
      i++;
    }
  }
  return out;
}

/**
 * The statements of a migration's text, split on `;` outside strings, names and comments (a
 * hand-written migration may hold several between two of drizzle-kit's breakpoints). Pure.
 */
export function splitStatements(sql: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "-" && sql[i + 1] === "-") i = sql.indexOf("\n", i) < 0 ? sql.length : sql.indexOf("\n", i);
    else if (c === "/" && sql[i + 1] === "*") i = sql.indexOf("*/", i + 2) < 0 ? sql.length : sql.indexOf("*/", i + 2) + 2;
    else if (c === '"' || c === "`" || c === "'") i = closing(sql, i, c) + 1;
    else if (c === "$" && /^\$\w*\$/.test(sql.slice(i))) {
      const tag = (/^\$\w*\$/.exec(sql.slice(i)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? sql.length : end + tag.length;
    } else if (c === ";") {
      parts.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  parts.push(sql.slice(start));
  return parts.map((p) => p.trim()).filter((p) => tokenize(p).length > 0);
}

/** A cursor over tokens, for the classifier's small grammar. */
export class Cursor {
  private i = 0;
  constructor(readonly tokens: Token[]) {}
  get done(): boolean {
    return this.i >= this.tokens.length;
  }
  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  /** True (and consumed) when the next tokens are these bare words. */
  words(...words: string[]): boolean {
    for (const [k, w] of words.entries()) {
      const t = this.tokens[this.i + k];
      if (t?.kind !== "word" || t.value !== w) return false;
    }
    this.i += words.length;
    return true;
  }
  /** True (and consumed) when the next token is this sign. */
  sign(s: string): boolean {
    const t = this.tokens[this.i];
    if (t?.kind !== "sign" || t.value !== s) return false;
    this.i++;
    return true;
  }
  /** The tokens not consumed yet. */
  rest(): Token[] {
    return this.tokens.slice(this.i);
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  /** A name, possibly qualified (`schema.table`): its last part, or null when none is next. */
  name(): string | null {
    let t = this.peek();
    if (t?.kind !== "word" && t?.kind !== "name") return null;
    this.i++;
    let last = t;
    while (this.peek()?.kind === "sign" && this.peek()?.value === "." && ["word", "name"].includes(this.peek(1)?.kind ?? "")) {
      this.i++;
      t = this.next() as Token;
      last = t;
    }
    return nameOf(last);
  }
  /** The tokens of a parenthesised group after `(` (consumed up to its `)`). */
  group(): Token[] {
    const out: Token[] = [];
    let depth = 1;
    for (let t = this.next(); t; t = this.next()) {
      if (t.kind === "sign" && t.value === "(") depth++;
      if (t.kind === "sign" && t.value === ")" && --depth === 0) return out;
      out.push(t);
    }
    return out;
  }
  /** The rest, split on top-level commas. */
  restByComma(): Token[][] {
    return splitTop(this.tokens.slice(this.i));
  }
}

/** Tokens split on commas outside parentheses. */
export function splitTop(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === "sign" && t.value === "(") depth++;
    if (t.kind === "sign" && t.value === ")") depth--;
    if (depth === 0 && t.kind === "sign" && t.value === ",") parts.push([]);
    else parts[parts.length - 1]?.push(t);
  }
  return parts.filter((p) => p.length > 0);
}

/** A name token's name: a bare word as written, a quoted name unquoted. */
export function nameOf(t: Token): string {
  return t.kind === "word" ? (t.text ?? t.value) : t.value;
}

/** The names in a column list such as `(a, "b")`; null when an entry is an expression. */
export function nameList(tokens: Token[]): string[] | null {
  const names: string[] = [];
  for (const part of splitTop(tokens)) {
    const c = new Cursor(part);
    const n = c.name();
    if (n === null) return null;
    // a MySQL prefix length `a(10)`, then ASC/DESC/COLLATE/NULLS; anything else is an expression
    const prefix = part[1]?.value === "(" && part[2]?.kind === "number" && part[3]?.value === ")";
    const rest = part.slice(prefix ? 4 : 1);
    if (rest.length > 0 && !["ASC", "DESC", "COLLATE", "NULLS"].includes(rest[0]?.value ?? "")) return null;
    names.push(n);
  }
  return names;
}
