/** What a dialect can do, so the core never asks `if (dialect === ...)`: it reads these flags. */
export interface Capabilities {
  /**
   * DDL runs inside a transaction and rolls back with it (SQLite, PostgreSQL: yes; MySQL: no).
   * Read by the migration runner: a migration that fails without it may leave part behind, and
   * its error says so (the run restores the restore point).
   */
  transactionalDdl: boolean;
  /**
   * `fingerprintBackup` works: the content of a backup can be proven without restoring it over the
   * live database (SQLite files; PostgreSQL template copies). Read by backup and seal: with it, a
   * hot backup equal to the stopped database is the restore point, and a new one is proven.
   */
  backupFingerprints: boolean;
}
