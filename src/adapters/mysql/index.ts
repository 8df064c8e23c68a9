/**
 * The MySQL / MariaDB adapter (mysql2 + mariadb-dump / mysqldump). Importing it does not load
 * mysql2; opening a database does.
 */
export { createMysqlAdapter, type MysqlAdapter, type MysqlAdapterOptions } from "./adapter.js";
export { backupMysql, dumpArgv, readDumpHeader, MYSQL_DUMP_FORMAT, type DumpHeader } from "./backup.js";
export { loadMysql2, mysqlError, mysqlToolArgs, mysqlToolEnv, openMysql, type MysqlPool, type MysqlTarget } from "./connection.js";
export { fingerprintMysql } from "./fingerprint.js";
export { createMysqlMigrationDriver, migrationLockName, type MysqlMigrationDriverOptions } from "./migration-driver.js";
export { derivedName } from "./databases.js";
export { loadDump, restoreMysql, type FingerprintOf, type MysqlRestoreOptions } from "./restore.js";
export {
  findMysqlTool,
  parseServerVersion,
  parseToolVersion,
  type MysqlServerVersion,
  type MysqlTool,
  type MysqlToolRole,
} from "./tools.js";
