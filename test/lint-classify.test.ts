// The lint's classifier, pure: what each statement does, as drizzle-kit writes it for SQLite,
// PostgreSQL and MySQL, and as people write it by hand.
import { describe, expect, it } from "vitest";
import { classify } from "../src/lint/classify.js";
import { limitOf } from "../src/lint/narrowing.js";
import { splitStatements } from "../src/lint/tokens.js";

const ops = (sql: string) => classify(sql).map((o) => o.op);

describe("the lint's classifier", () => {
  it("reads drizzle-kit's SQLite rebuild as create, copy, drop, rename, with the NOT NULLs and foreign keys it declares", () => {
    const create = classify(
      "CREATE TABLE `__new_posts` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`title` text NOT NULL,\n\t`created_at` integer DEFAULT (unixepoch()) NOT NULL,\n\t`author_id` integer,\n\tFOREIGN KEY (`author_id`) REFERENCES `authors`(`id`) ON UPDATE no action ON DELETE cascade\n);",
    );
    expect(create).toEqual([
      {
        op: "createTable",
        table: "__new_posts",
        columns: [
          { name: "id", type: "integer", notNull: true, hasDefault: true, volatileDefault: false, unique: false, references: null },
          { name: "title", type: "text", notNull: true, hasDefault: false, volatileDefault: false, unique: false, references: null },
          { name: "created_at", type: "integer", notNull: true, hasDefault: true, volatileDefault: false, unique: false, references: null },
          {
            name: "author_id",
            type: "integer",
            notNull: false,
            hasDefault: false,
            volatileDefault: false,
            unique: false,
            references: null,
          },
        ],
        foreignKeys: [{ columns: ["author_id"], table: "authors", refColumns: ["id"], onDelete: "CASCADE" }],
        uniques: [],
      },
    ]);
    expect(classify('INSERT INTO `__new_posts`("id", "title") SELECT "id", "title" FROM `posts`;')).toEqual([
      { op: "insertSelect", table: "__new_posts", columns: ["id", "title"], sources: ["id", "title"], from: "posts" },
    ]);
    expect(classify("DROP TABLE `posts`;")).toEqual([{ op: "dropTable", table: "posts" }]);
    expect(classify("ALTER TABLE `__new_posts` RENAME TO `posts`;")).toEqual([{ op: "renameTable", from: "__new_posts", to: "posts" }]);
    expect(ops("PRAGMA foreign_keys=OFF;")).toEqual(["other"]);
  });

  it("reads PostgreSQL's ALTER COLUMN forms, constraints and indexes", () => {
    expect(classify('ALTER TABLE "authors" ALTER COLUMN "name" SET NOT NULL;')).toEqual([
      { op: "setNotNull", table: "authors", column: "name" },
    ]);
    expect(classify('ALTER TABLE "authors" ALTER COLUMN "name" SET DATA TYPE varchar(10);')).toEqual([
      { op: "alterType", table: "authors", column: "name", type: "varchar(10)", algorithm: null },
    ]);
    expect(
      classify(
        'ALTER TABLE "posts" ADD CONSTRAINT "p_fk" FOREIGN KEY ("author_id") REFERENCES "public"."authors"("id") ON DELETE cascade ON UPDATE no action;',
      ),
    ).toEqual([
      {
        op: "addForeignKey",
        table: "posts",
        foreignKey: { columns: ["author_id"], table: "authors", refColumns: ["id"], onDelete: "CASCADE" },
        notValid: false,
        algorithm: null,
      },
    ]);
    expect(classify('ALTER TABLE "t" ADD CONSTRAINT "t_c_unique" UNIQUE("c");')).toEqual([
      { op: "createIndex", table: "t", columns: ["c"], unique: true, concurrently: false, partial: false },
    ]);
    expect(classify('CREATE UNIQUE INDEX "x" ON "t" USING btree ("c","d");')).toEqual([
      { op: "createIndex", table: "t", columns: ["c", "d"], unique: true, concurrently: false, partial: false },
    ]);
    expect(classify("CREATE INDEX CONCURRENTLY IF NOT EXISTS x ON t (lower(c)) WHERE c IS NOT NULL")).toEqual([
      { op: "createIndex", table: "t", columns: null, unique: false, concurrently: true, partial: true },
    ]);
    const added = classify('ALTER TABLE "t" ADD COLUMN "u" uuid DEFAULT gen_random_uuid() NOT NULL;')[0];
    expect(added).toMatchObject({ op: "addColumn", column: { name: "u", notNull: true, hasDefault: true, volatileDefault: true } });
    expect(classify('ALTER TABLE "t" ADD COLUMN "k" integer DEFAULT 0;')[0]).toMatchObject({
      column: { hasDefault: true, volatileDefault: false },
    });
    expect(classify("ALTER TABLE t ADD COLUMN s bigserial")[0]).toMatchObject({ column: { volatileDefault: true } });
    expect(ops("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID")).toEqual(["addForeignKey"]);
    expect(classify("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID")[0]).toMatchObject({ notValid: true });
    expect(ops("ALTER TABLE t DROP CONSTRAINT x")).toEqual(["other"]);
    expect(ops("ALTER TABLE t ALTER COLUMN c DROP NOT NULL")).toEqual(["other"]);
  });

  it("reads MySQL's MODIFY, CHANGE, bare DROP, ALGORITHM= and RENAME TABLE", () => {
    expect(classify("ALTER TABLE `authors` MODIFY COLUMN `name` varchar(10) NOT NULL;")).toEqual([
      { op: "alterType", table: "authors", column: "name", type: "varchar(10)", algorithm: null },
      { op: "setNotNull", table: "authors", column: "name" },
    ]);
    expect(classify("ALTER TABLE t CHANGE old_name new_name int, ALGORITHM=INPLACE")).toEqual([
      { op: "renameColumn", table: "t", from: "old_name", to: "new_name" },
      { op: "alterType", table: "t", column: "new_name", type: "int", algorithm: "INPLACE" },
    ]);
    expect(classify("ALTER TABLE t DROP c, DROP INDEX i, DROP FOREIGN KEY f")).toEqual([{ op: "dropColumn", table: "t", column: "c" }]);
    expect(classify("ALTER TABLE `t` ADD UNIQUE INDEX `t_e` (`e`(20))")).toEqual([
      { op: "createIndex", table: "t", columns: ["e"], unique: true, concurrently: false, partial: false },
    ]);
    expect(classify("RENAME TABLE a TO b, c TO d")).toEqual([
      { op: "renameTable", from: "a", to: "b" },
      { op: "renameTable", from: "c", to: "d" },
    ]);
  });

  it("reads the destructive hand-written forms, and leaves a filtered DELETE alone", () => {
    expect(classify("DROP TABLE IF EXISTS a, b CASCADE")).toEqual([
      { op: "dropTable", table: "a" },
      { op: "dropTable", table: "b" },
    ]);
    expect(classify("TRUNCATE TABLE ONLY posts, comments RESTART IDENTITY CASCADE")).toEqual([
      { op: "truncate", table: "posts" },
      { op: "truncate", table: "comments" },
    ]);
    expect(classify("DELETE FROM posts")).toEqual([{ op: "deleteAll", table: "posts" }]);
    expect(ops("DELETE FROM posts WHERE id < 10")).toEqual(["other"]);
    expect(classify("ALTER TABLE posts DROP COLUMN IF EXISTS body CASCADE")).toEqual([
      { op: "dropColumn", table: "posts", column: "body" },
    ]);
    expect(ops("-- DROP TABLE posts\nSELECT 1")).toEqual(["other"]);
    expect(ops("SELECT 'DROP TABLE posts'")).toEqual(["other"]);
  });

  it("reads an UPDATE's constants and which rows it sets", () => {
    expect(classify("UPDATE authors SET name = 'anon' WHERE name IS NULL")).toEqual([
      { op: "update", table: "authors", sets: [{ column: "name", constant: true, rows: "nulls" }] },
    ]);
    expect(classify("UPDATE t SET a = 1, b = lower(c)")).toEqual([
      {
        op: "update",
        table: "t",
        sets: [
          { column: "a", constant: true, rows: "all" },
          { column: "b", constant: false, rows: "all" },
        ],
      },
    ]);
    expect(classify("UPDATE t SET a = 1 WHERE id = 2")[0]).toMatchObject({ sets: [{ rows: "some" }] });
  });

  it("splits statements on semicolons outside strings, names, comments and dollar quotes", () => {
    expect(splitStatements("DROP TABLE a; INSERT INTO t VALUES ('x;y'); -- c;\nCREATE FUNCTION f() AS $$ BEGIN; END $$; ")).toEqual([
      "DROP TABLE a",
      "INSERT INTO t VALUES ('x;y')",
      "-- c;\nCREATE FUNCTION f() AS $$ BEGIN; END $$",
    ]);
    expect(splitStatements("-- only a comment;")).toEqual([]);
  });

  it("knows the limits of narrow types", () => {
    expect(limitOf("varchar(5)")).toEqual({ length: 5 });
    expect(limitOf("character varying(12)")).toEqual({ length: 12 });
    expect(limitOf("integer")).toEqual({ min: "-2147483648", max: "2147483647", name: "integer" });
    expect(limitOf("smallint")).toEqual({ min: "-32768", max: "32767", name: "smallint" });
    expect(limitOf("tinyint unsigned")).toEqual({ min: "0", max: "255", name: "tinyint unsigned" });
    expect(limitOf("text")).toBeNull();
    expect(limitOf("bigint")).toBeNull();
  });
});
