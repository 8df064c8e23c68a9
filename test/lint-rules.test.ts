// Each lint rule on real data: a case that triggers it, with exact counts, and one that does not,
// on SQLite, PostgreSQL and MariaDB where the rule applies. One database per dialect, each case
// on tables of its own; the lint only reads, so the cases share it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAdapter } from "../src/adapters/registry.js";
import type { DatabaseAdapter } from "../src/adapters/types.js";
import { parseDatabaseUrl } from "../src/url.js";
import { lintStatements } from "./helpers/lint.js";
import { createScratchDatabase, execSql, serverAvailable, type ScratchDatabase } from "./helpers/servers.js";
import Database from "better-sqlite3";

type D = "sqlite" | "postgres" | "mysql";

const SETUP = [
  "CREATE TABLE dt_full (id integer PRIMARY KEY)",
  "INSERT INTO dt_full (id) VALUES (1), (2), (3)",
  "CREATE TABLE dt_empty (id integer PRIMARY KEY)",
  "CREATE TABLE dc (id integer PRIMARY KEY, body varchar(50), unused varchar(50))",
  "INSERT INTO dc (id, body) VALUES (1, 'a'), (2, NULL), (3, 'c')",
  "CREATE TABLE da (id integer PRIMARY KEY)",
  "INSERT INTO da (id) VALUES (1), (2)",
  "CREATE TABLE nn (id integer PRIMARY KEY, name varchar(50), bio varchar(50))",
  "INSERT INTO nn (id, name, bio) VALUES (1, 'ann', 'x'), (2, NULL, 'y'), (3, 'bob', NULL)",
  "CREATE TABLE uq (id integer PRIMARY KEY, email varchar(50), code varchar(50))",
  "INSERT INTO uq (id, email, code) VALUES (1, 'a', 'p'), (2, 'a', 'q'), (3, 'b', 'r'), (4, NULL, 's'), (5, NULL, 't')",
  "CREATE TABLE fk_parent (id integer PRIMARY KEY)",
  "INSERT INTO fk_parent (id) VALUES (1), (2)",
  "CREATE TABLE fk_child (id integer PRIMARY KEY, parent_id integer, ok_id integer)",
  "INSERT INTO fk_child (id, parent_id, ok_id) VALUES (1, 1, 1), (2, 3, 2), (3, NULL, NULL), (4, 9, 1)",
  "CREATE TABLE cp (id integer PRIMARY KEY)",
  "INSERT INTO cp (id) VALUES (1), (2)",
  "CREATE TABLE cc (id integer PRIMARY KEY, cp_id integer REFERENCES cp (id) ON DELETE CASCADE)",
  "INSERT INTO cc (id, cp_id) VALUES (1, 1), (2, 1), (3, NULL)",
  "CREATE TABLE nt (id integer PRIMARY KEY, name varchar(50), n bigint)",
  "INSERT INTO nt (id, name, n) VALUES (1, 'abcdefgh', 5000000000), (2, 'abc', 1), (3, NULL, -5000000000)",
];

function open(_d: D, where: string): Promise<DatabaseAdapter> {
  return openAdapter(parseDatabaseUrl(where, "/"));
}

/** The SQL of a column change in each server dialect. */
const alter = (d: D, table: string, column: string, def: string, notNull = false) =>
  d === "mysql"
    ? `ALTER TABLE ${table} MODIFY COLUMN ${column} ${def}${notNull ? " NOT NULL" : ""}`
    : notNull
      ? `ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL`
      : `ALTER TABLE ${table} ALTER COLUMN ${column} SET DATA TYPE ${def}`;

function rulesOn(d: D, db: () => DatabaseAdapter) {
  const lint = (statements: string[], options = {}) => lintStatements(db(), statements, options);
  const servers = d !== "sqlite";

  it("drop-table: the rows of a dropped table; an empty table destroys nothing", async () => {
    expect(await lint(["DROP TABLE dt_full"])).toEqual([
      { rule: "drop-table", kind: "destructive", table: "dt_full", statement: 0, rows: 3 },
    ]);
    expect(await lint(["DROP TABLE dt_empty"])).toEqual([]);
  });

  it("drop-column: the non-null values of a dropped column; an all-NULL column destroys nothing", async () => {
    expect(await lint(["ALTER TABLE dc DROP COLUMN body"])).toEqual([
      { rule: "drop-column", kind: "destructive", table: "dc", column: "body", statement: 0, values: 2 },
    ]);
    expect(await lint(["ALTER TABLE dc DROP COLUMN unused"])).toEqual([]);
  });

  it("delete-all and truncate: every row; a DELETE with WHERE is not reported", async () => {
    expect(await lint(["DELETE FROM da"])).toEqual([{ rule: "delete-all", kind: "destructive", table: "da", statement: 0, rows: 2 }]);
    expect(await lint(["DELETE FROM da WHERE id = 1"])).toEqual([]);
    if (servers) {
      expect(await lint(["TRUNCATE TABLE da"])).toEqual([{ rule: "truncate", kind: "destructive", table: "da", statement: 0, rows: 2 }]);
      expect(await lint(["TRUNCATE TABLE dt_empty"])).toEqual([]);
    }
  });

  it("unique: a UNIQUE index over duplicates counts the rows and values (NULLs are distinct); none over distinct values", async () => {
    expect(await lint(["CREATE UNIQUE INDEX uq_email ON uq (email)"])).toEqual([
      { rule: "unique", kind: "willFail", table: "uq", column: "email", statement: 0, rows: 2, values: 1 },
    ]);
    expect(await lint(["CREATE UNIQUE INDEX uq_code ON uq (code)"])).toEqual([]);
  });

  it("cascade: emptying a parent counts the ON DELETE CASCADE children's rows; a parent without such children has none", async () => {
    expect(await lint(["DELETE FROM cp"])).toEqual([
      { rule: "delete-all", kind: "destructive", table: "cp", statement: 0, rows: 2 },
      { rule: "cascade", kind: "cascade", table: "cc", statement: 0, rows: 2 },
    ]);
    expect(await lint(["DELETE FROM fk_parent"])).toEqual([
      { rule: "delete-all", kind: "destructive", table: "fk_parent", statement: 0, rows: 2 },
    ]);
  });

  it("a statement on what the set itself made is evaluated with what the set put there", async () => {
    // a new table is empty: dropping it, or a column of it, destroys nothing
    expect(
      await lint(["CREATE TABLE fresh (id integer PRIMARY KEY, x integer)", "ALTER TABLE fresh DROP COLUMN x", "DROP TABLE fresh"]),
    ).toEqual([]);
    // a column added without default holds NULL in every row: dropping it destroys nothing
    expect(await lint(["ALTER TABLE dc ADD COLUMN extra integer", "ALTER TABLE dc DROP COLUMN extra"])).toEqual([]);
  });

  if (servers) {
    it("not-null: a column made NOT NULL over NULLs counts them; filled first by an UPDATE, nothing", async () => {
      expect(await lint([alter(d, "nn", "name", "varchar(50)", true)])).toEqual([
        { rule: "not-null", kind: "willFail", table: "nn", column: "name", statement: 0, rows: 1 },
      ]);
      expect(await lint(["UPDATE nn SET name = 'anonymous' WHERE name IS NULL", alter(d, "nn", "name", "varchar(50)", true)])).toEqual([]);
    });

    it("narrowing-type: values longer than a new varchar or outside a new integer's range; a wide enough type, none", async () => {
      expect(await lint([alter(d, "nt", "name", "varchar(5)"), alter(d, "nt", "n", "integer")])).toEqual([
        { rule: "narrowing-type", kind: "destructive", table: "nt", column: "name", statement: 0, values: 1 },
        { rule: "narrowing-type", kind: "destructive", table: "nt", column: "n", statement: 1, values: 2 },
      ]);
      expect(await lint([alter(d, "nt", "name", "varchar(8)")])).toEqual([]);
    });

    it("foreign-key: a new foreign key counts the rows that reference no parent row; none when every row does", async () => {
      const fk = (col: string) => `ALTER TABLE fk_child ADD CONSTRAINT fk_${col} FOREIGN KEY (${col}) REFERENCES fk_parent (id)`;
      expect(await lint([fk("parent_id")])).toEqual([
        { rule: "foreign-key", kind: "willFail", table: "fk_child", column: "parent_id", statement: 0, rows: 2 },
      ]);
      expect(await lint([fk("ok_id")])).toEqual([]);
    });

    it("cost: a locking or rewriting statement on a table from largeTableBytes, with its size; below it, or done online, none", async () => {
      const big = { largeTableBytes: 0 };
      const found = await lint(["CREATE INDEX nt_name ON nt (name)", alter(d, "nt", "n", "integer")], big);
      const index = d === "postgres" ? [{ rule: "index-lock", kind: "cost", table: "nt", statement: 0, rows: 3 }] : [];
      const type = {
        rule: d === "postgres" ? "table-rewrite" : "copy-alter",
        kind: "cost",
        table: "nt",
        column: "n",
        statement: 1,
        rows: 3,
      };
      expect(found.filter((f) => f.kind === "cost")).toEqual([...index, type]);
      expect(await lint(["CREATE INDEX nt_name ON nt (name)", alter(d, "nt", "n", "integer")])).not.toContainEqual(
        expect.objectContaining({ kind: "cost" }),
      );
      const online =
        d === "postgres"
          ? ["CREATE INDEX CONCURRENTLY nt_name ON nt (name)", "ALTER TABLE nt ADD COLUMN k integer DEFAULT 0"]
          : [`${alter(d, "nt", "name", "varchar(60)")}, ALGORITHM=INPLACE`];
      expect(await lint(online, big)).toEqual([]);
      if (d === "postgres") {
        expect(await lint(["ALTER TABLE nt ADD COLUMN k uuid DEFAULT gen_random_uuid()"], big)).toEqual([
          { rule: "table-rewrite", kind: "cost", table: "nt", statement: 0, rows: 3 },
        ]);
      }
    });
  }
}

/** drizzle-kit's SQLite rebuild of `table` into `columns` (a declaration each), copying `copied`. */
function rebuild(table: string, columns: string[], copied: string[]): string[] {
  const list = copied.map((c) => `"${c}"`).join(", ");
  return [
    "PRAGMA foreign_keys=OFF;",
    `CREATE TABLE \`__new_${table}\` (\n\t${columns.join(",\n\t")}\n);`,
    `INSERT INTO \`__new_${table}\`(${list}) SELECT ${list} FROM \`${table}\`;`,
    `DROP TABLE \`${table}\`;`,
    `ALTER TABLE \`__new_${table}\` RENAME TO \`${table}\`;`,
    "PRAGMA foreign_keys=ON;",
  ];
}

function sqliteRebuilds(db: () => DatabaseAdapter) {
  const lint = (statements: string[]) => lintStatements(db(), statements);

  it("rebuild-drops-column: the values of the columns a rebuild leaves out; a rebuild that keeps them, none", async () => {
    expect(await lint(rebuild("nn", ["`id` integer PRIMARY KEY", "`name` text"], ["id", "name"]))).toEqual([
      { rule: "rebuild-drops-column", kind: "destructive", table: "nn", column: "bio", statement: 3, values: 2 },
    ]);
    expect(await lint(rebuild("nn", ["`id` integer PRIMARY KEY", "`name` text", "`bio` text"], ["id", "name", "bio"]))).toEqual([]);
  });

  it("not-null: a rebuild that makes a column NOT NULL over NULLs; filled first, or over no NULL, none", async () => {
    const cols = ["`id` integer PRIMARY KEY", "`name` text NOT NULL", "`bio` text"];
    expect(await lint(rebuild("nn", cols, ["id", "name", "bio"]))).toEqual([
      { rule: "not-null", kind: "willFail", table: "nn", column: "name", statement: 2, rows: 1 },
    ]);
    expect(
      await lint(["UPDATE `nn` SET `name` = 'anonymous' WHERE `name` IS NULL;", ...rebuild("nn", cols, ["id", "name", "bio"])]),
    ).toEqual([]);
    expect(
      await lint(rebuild("dc", ["`id` integer PRIMARY KEY NOT NULL", "`body` text", "`unused` text"], ["id", "body", "unused"])),
    ).toEqual([]);
  });

  it("foreign-key: a rebuild that adds a foreign key the rows violate; one they satisfy, none", async () => {
    const cols = (col: string) => [
      "`id` integer PRIMARY KEY",
      "`parent_id` integer",
      "`ok_id` integer",
      `FOREIGN KEY (\`${col}\`) REFERENCES \`fk_parent\`(\`id\`) ON UPDATE no action ON DELETE no action`,
    ];
    expect(await lint(rebuild("fk_child", cols("parent_id"), ["id", "parent_id", "ok_id"]))).toEqual([
      { rule: "foreign-key", kind: "willFail", table: "fk_child", column: "parent_id", statement: 2, rows: 2 },
    ]);
    expect(await lint(rebuild("fk_child", cols("ok_id"), ["id", "parent_id", "ok_id"]))).toEqual([]);
  });

  it("cascade: the rebuild of a parent counts its ON DELETE CASCADE children's rows; of a childless table, none", async () => {
    expect(await lint(rebuild("cp", ["`id` integer PRIMARY KEY", "`label` text"], ["id"]))).toEqual([
      { rule: "cascade", kind: "cascade", table: "cc", statement: 3, rows: 2 },
    ]);
    expect(await lint(rebuild("da", ["`id` integer PRIMARY KEY", "`label` text"], ["id"]))).toEqual([]);
  });
}

describe("lint rules on SQLite", () => {
  let dir: string;
  let db: DatabaseAdapter;
  beforeAll(async () => {
    // A folder of its own: /tmp/h12l is made by other files, which may not have run first.
    dir = mkdtempSync(join(tmpdir(), "um-lint-rules-"));
    const path = join(dir, "db.sqlite");
    const raw = new Database(path);
    raw.pragma("journal_mode = WAL");
    for (const s of SETUP) raw.exec(s);
    raw.close();
    db = await open("sqlite", `sqlite:${path}`);
  });
  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  rulesOn("sqlite", () => db);
  sqliteRebuilds(() => db);
});

for (const d of ["postgres", "mysql"] as const) {
  describe.skipIf(!(await serverAvailable(d)))(`lint rules on ${d === "mysql" ? "MariaDB" : "PostgreSQL"}`, () => {
    let scratch: ScratchDatabase;
    let db: DatabaseAdapter;
    beforeAll(async () => {
      scratch = await createScratchDatabase(d, "um_lint");
      await execSql(d, scratch.url, SETUP);
      db = await open(d, scratch.url);
    });
    afterAll(async () => {
      await db?.close();
      await scratch?.drop();
    });
    rulesOn(d, () => db);
  });
}
