// Release 2.0.0 of the example blog: drizzle sqlite-core table definitions.
// Migrations in ./drizzle are release 1.0.0's migrations plus the ones drizzle-kit
// generated from the difference to this file (see ./drizzle.config.mjs).
//
// Changes from 1.0.0:
//   * posts.created_at becomes NOT NULL DEFAULT (unixepoch()). SQLite cannot ALTER a
//     column's constraints, so drizzle-kit emits a TABLE REBUILD of `posts`
//     (PRAGMA foreign_keys=OFF; CREATE __new_posts; INSERT SELECT; DROP posts; RENAME;
//     PRAGMA foreign_keys=ON). `posts` is the parent of `comments` (ON DELETE CASCADE).
//   * authors.bio (additive column) and two indexes (additive).
import { sql } from "drizzle-orm";
import { sqliteTable, integer, text, index } from "drizzle-orm/sqlite-core";

export const authors = sqliteTable("authors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  email: text("email"),
  bio: text("bio"),
});

export const posts = sqliteTable(
  "posts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    authorId: integer("author_id")
      .notNull()
      .references(() => authors.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    body: text("body"),
    // unix seconds; NOT NULL with a database default in 2.0.0
    createdAt: integer("created_at").notNull().default(sql`(unixepoch())`),
  },
  (t) => [index("posts_author_id_idx").on(t.authorId)],
);

export const comments = sqliteTable(
  "comments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    postId: integer("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    body: text("body").notNull(),
  },
  (t) => [index("comments_post_id_idx").on(t.postId)],
);
