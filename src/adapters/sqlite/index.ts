/**
 * The SQLite adapter (better-sqlite3), as the `upgrade-machine/sqlite` entry point. Importing it
 * does not load better-sqlite3; opening a database does.
 */
export { createSqliteAdapter, type SqliteAdapter, type SqliteAdapterOptions } from "./adapter.js";
export { backupSqlite, SQLITE_BACKUP_FORMAT, SQLITE_FILE_COPY_FORMAT, type SqliteBackupOptions } from "./backup.js";
export { checkSqliteMark, SQLITE_MARK_HOW, takeSqliteMark, type SqliteMark } from "./change-mark.js";
export { loadBetterSqlite3, openSqlite, type OpenOptions, type SqliteDb } from "./connection.js";
export { fingerprintSqlite } from "./fingerprint.js";
export { lockSqliteMigrations, migrationLockPath } from "./lock.js";
export { createSqliteMigrationDriver, DRIZZLE_MIGRATIONS_DDL, type SqliteMigrationDriverOptions } from "./migration-driver.js";
export { restoreSqlite } from "./restore.js";
