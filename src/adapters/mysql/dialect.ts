import { shellWord, type Dialect } from "../dialect.js";
import { serverTargetKey } from "../server-key.js";
import { createMysqlAdapter } from "./adapter.js";
import { openMysqlJournal } from "./journal-store.js";

/** MySQL / MariaDB (mysql2, mariadb-dump / mysqldump and the client). */
export const mysqlDialect: Dialect<"mysql"> = {
  name: "mysql",
  openAdapter: (target, backup) => createMysqlAdapter(target, backup.toolsPath ? { binPath: backup.toolsPath } : {}),
  openJournal: (target) => openMysqlJournal(target),
  targetKey: serverTargetKey,
  localPath: () => null,
  manualRestore(target, artifact) {
    const db = target.database;
    return `mariadb -e ${shellWord(`DROP DATABASE \`${db}\`; CREATE DATABASE \`${db}\``)} && mariadb ${shellWord(db)} < ${shellWord(artifact.path)}`;
  },
};
