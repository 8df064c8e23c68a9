import { UpgradeError } from "../errors.js";
import type { BackupOptions } from "../config/types.js";
import type { DatabaseTarget } from "../url.js";
import type { DatabaseAdapter } from "./types.js";

/**
 * The adapter of a database target, with the config's backup options. Each driver is imported only here and only when its
 * dialect is used, so the core never loads better-sqlite3, postgres or mysql2 by itself.
 */
export async function openAdapter(target: DatabaseTarget, backup: BackupOptions = {}): Promise<DatabaseAdapter> {
  switch (target.dialect) {
    case "sqlite": {
      const { createSqliteAdapter } = await import("./sqlite/index.js");
      return createSqliteAdapter({ path: target.path });
    }
    case "postgres": {
      const { createPostgresAdapter } = await import("./postgres/index.js");
      return createPostgresAdapter(
        { ...target, dialect: "postgres" },
        {
          ...(backup.strategy ? { backupStrategy: backup.strategy } : {}),
          ...(backup.toolsPath ? { binPath: backup.toolsPath } : {}),
          ...(backup.compress !== undefined ? { compress: backup.compress } : {}),
        },
      );
    }
    case "mysql": {
      const { createMysqlAdapter } = await import("./mysql/index.js");
      return createMysqlAdapter({ ...target, dialect: "mysql" }, backup.toolsPath ? { binPath: backup.toolsPath } : {});
    }
    default:
      throw new UpgradeError("E_CONFIG", `${(target as { dialect: string }).dialect} databases are not supported by this version of upgrade-machine`, {
        hint: "use a sqlite:, postgres:// or mysql:// database URL",
      });
  }
}
