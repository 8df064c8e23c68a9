/**
 * The PostgreSQL adapter (postgres.js + pg_dump / pg_restore). Importing it does not load
 * postgres.js; opening a database does.
 */
export { createPostgresAdapter, type PostgresAdapter, type PostgresAdapterOptions } from "./adapter.js";
export { backupPostgres, PG_DUMP_FORMAT, type PgDumpOptions } from "./backup.js";
export { loadPostgres, openPg, pgError, pgToolEnv, sslOptions, type PgSql, type PostgresTarget } from "./connection.js";
export { createDatabaseStatement, derivedName, readDatabaseProps, type DatabaseProps } from "./databases.js";
export { fingerprintPostgres } from "./fingerprint.js";
export { createPostgresMigrationDriver, type PgMigrationDriverOptions } from "./migration-driver.js";
export { restorePostgres } from "./restore.js";
export { PG_TEMPLATE_FORMAT, backupByTemplate, restoreFromTemplate, type TemplateManifest } from "./template.js";
export { pgCatalog, serverMajor, type DatabaseLocale, type PgCatalog } from "./catalog.js";
export { AFTER_STOP_SECONDS_PER_GB } from "./costs.js";
export {
  describeClientTools,
  findPgClientTools,
  installLocations,
  type PgClientTools,
  type PgTool,
  type PgToolName,
  type PgToolSearch,
  type PgToolSearchResult,
  type PgToolSource,
} from "./tools.js";
