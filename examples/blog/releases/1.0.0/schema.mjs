// Release 1.0.0 of the example blog: drizzle sqlite-core table definitions.
// Migrations in ./drizzle are generated from this file by drizzle-kit (see ./drizzle.config.mjs).
import { sqliteTable, integer, text } from "drizzle-orm/sqlite-core";

export const authors = sqliteTable("authors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  email: text("email"),
});

export const posts = sqliteTable("posts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  authorId: integer("author_id")
    .notNull()
    .references(() => authors.id, { onDelete: "cascade" }),
  title: text("title").notNull(),
  body: text("body"),
  // unix seconds; nullable in 1.0.0
  createdAt: integer("created_at"),
});

export const comments = sqliteTable("comments", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  postId: integer("post_id")
    .notNull()
    .references(() => posts.id, { onDelete: "cascade" }),
  body: text("body").notNull(),
});
