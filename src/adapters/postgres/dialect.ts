import { shellWord, type Dialect } from "../dialect.js";
import { serverTargetKey } from "../server-key.js";
import { createPostgresAdapter } from "./adapter.js";
import { openPostgresFleetStore } from "./fleet-store.js";
import { openPostgresJournal } from "./journal-store.js";
import { PG_TEMPLATE_FORMAT } from "./template.js";

/** PostgreSQL (postgres.js, pg_dump / pg_restore, template copies). */
export const postgresDialect: Dialect<"postgres"> = {
  name: "postgres",
  openAdapter: (target, backup) =>
    createPostgresAdapter(target, {
      ...(backup.strategy ? { backupStrategy: backup.strategy } : {}),
      ...(backup.toolsPath ? { binPath: backup.toolsPath } : {}),
      ...(backup.compress !== undefined ? { compress: backup.compress } : {}),
    }),
  openJournal: (target) => openPostgresJournal(target),
  openFleetStore: (target) => openPostgresFleetStore(target),
  targetKey: serverTargetKey,
  localPath: () => null,
  manualRestore(target, artifact) {
    const db = shellWord(target.database);
    if (artifact.format === PG_TEMPLATE_FORMAT) {
      return `the restore point is the database copy named in ${shellWord(artifact.path)} ("snapshot"); with the service stopped: ALTER DATABASE ${db} RENAME TO <old>; ALTER DATABASE <snapshot> RENAME TO ${db}`;
    }
    return `dropdb --force ${db} && createdb --template=template0 ${db} && pg_restore --single-transaction -d ${db} ${shellWord(artifact.path)}`;
  },
};
