import { existsSync } from "node:fs";
import { realPathOf } from "../../fs/real-path.js";
import { shellWord, type Dialect } from "../dialect.js";
import { createSqliteAdapter } from "./adapter.js";
import { openSqliteJournal } from "./journal-store.js";

/** SQLite (better-sqlite3): a file, locked, backed up, restored and journaled in place. */
export const sqliteDialect: Dialect<"sqlite"> = {
  name: "sqlite",
  openAdapter: (target) => createSqliteAdapter({ path: target.path }),
  async openJournal(target, { create }) {
    if (!create && !existsSync(target.path)) return null;
    return openSqliteJournal(target.path);
  },
  targetKey: (target) => `sqlite:${realPathOf(target.path)}`,
  localPath: (target) => target.path,
  manualRestore(target, artifact, realPath) {
    const db = realPath ?? realPathOf(target.path);
    return `rm -f ${shellWord(`${db}-wal`)} ${shellWord(`${db}-shm`)} && cp ${shellWord(artifact.path)} ${shellWord(db)}`;
  },
};
