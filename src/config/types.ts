import type { DatabaseTarget } from "../url.js";

/**
 * A command to run. Commands are argv arrays, never a shell string: `["./ctl.sh", "stop"]`.
 * The placeholders `{fromVersion}` and `{toVersion}` in any argument are replaced at run time.
 */
export interface CommandSpec {
  /** Program and arguments. An `argv[0]` starting with `./` or `../` is relative to the config file's directory. */
  command: string[];
  /** Working directory, relative to the config file's directory. Default: that directory. */
  cwd?: string;
  /** Seconds before the command is killed and the step fails with `E_TIMEOUT`. */
  timeoutSeconds?: number;
  /** Extra environment variables for this command (added to `UpgradeConfig.env`). */
  env?: Record<string, string>;
}

/** An HTTP request (a webhook, a stop endpoint). A non-2xx answer fails the step with `E_HTTP`. */
export interface HttpSpec {
  /** HTTP method. Default: `POST`. */
  method?: string;
  /** Absolute `http://` or `https://` URL. */
  url: string;
  /** Request headers, e.g. `{ "authorization": "Bearer ..." }` (never written to the journal). */
  headers?: Record<string, string>;
  /** Request body, sent as JSON. */
  body?: unknown;
  /** Seconds before the request is abandoned. */
  timeoutSeconds?: number;
}

/** Schema migrations from a drizzle-kit folder (`meta/_journal.json`, `<tag>.sql`). */
export interface DrizzleMigrations {
  /** The drizzle-kit output folder, relative to the config file's directory. */
  drizzle: string;
  /** Seconds to wait for the migration lock held by another run. */
  lockTimeoutSeconds?: number;
}

/** Schema migrations by the service's own command, e.g. `["jupyterhub", "upgrade-db"]`. */
export type CommandMigrations = { command: string[] } & Omit<CommandSpec, "command">;

/** How to tell users about the downtime, and how to take the announcement back. */
export interface AnnounceConfig {
  /** Command that announces the downtime (argv array, run in the config file's directory). */
  command?: string[];
  /** Webhook that announces the downtime. */
  webhook?: HttpSpec;
  /** Withdraws the announcement when the run aborts before the service stopped. */
  withdraw?: CommandSpec | { http: HttpSpec };
  /** Seconds between the announcement and the stop. Default: 0. */
  graceSeconds?: number;
  /** Seconds before the announcement command or webhook is abandoned. */
  timeoutSeconds?: number;
}

/** How to stop, start and health-check the service. */
export interface ServiceConfig {
  /** Stops the service: a command, or an HTTP request followed by `waitSeconds` of waiting. */
  stop?: CommandSpec | { http: HttpSpec; waitSeconds?: number };
  /** Starts the service; `settleSeconds` are waited before the health check. */
  start?: CommandSpec & { settleSeconds?: number };
  /** Health check: polled until it answers `expectStatus` (default 200) or `timeoutSeconds` pass. */
  health?: {
    /** Absolute `http://` or `https://` URL. */
    url: string;
    /** Seconds to keep polling before the step fails with `E_HEALTH`. */
    timeoutSeconds?: number;
    /** Expected HTTP status. Default: 200. */
    expectStatus?: number;
  };
}

/** How to read, install and reinstall the service's software version. */
export interface PackageConfig {
  /** Prints the installed version on stdout. */
  version?: CommandSpec;
  /** Installs `{toVersion}`. */
  upgrade?: CommandSpec;
  /** Reinstalls `{fromVersion}` during a rollback. */
  downgrade?: CommandSpec;
}

/** The configuration of one upgradable service (what `defineUpgrade` takes, what a config file holds). */
/** Backup options of the database adapters. */
export interface BackupOptions {
  /**
   * PostgreSQL: `dump` (default) takes `pg_dump --format=custom` files restored with pg_restore
   * (needs pg_dump and pg_restore at least as new as the server); `template` takes
   * `CREATE DATABASE ... TEMPLATE` copies on the same server (`STRATEGY FILE_COPY` on 15+; several
   * times faster; needs the server's disk space and no client tools). A template copy needs no
   * other session on the database: while the service is connected, the hot backup is a pg_dump
   * when one can serve the server, or is skipped and the restore point taken after the stop.
   */
  strategy?: "dump" | "template";
  /**
   * Where pg_dump/pg_restore or mariadb-dump/mariadb are looked for first (PATH syntax). PostgreSQL
   * then searches PATH and the usual install locations of each major, and uses the newest client
   * at least as new as the server; MySQL/MariaDB: default PATH.
   */
  toolsPath?: string;
  /** pg_dump's `--compress` level, 0-9. */
  compress?: number;
}

/** The lint of pending migrations (the `lint` step): `false` turns it off. */
export interface LintConfig {
  /**
   * `refuse` (default): a pending migration that destroys data refuses the run before the
   * announcement, unless the run is given `--allow-destructive`; `allow`: it is only logged.
   */
  destructive?: "refuse" | "allow";
  /** The size in bytes from which a locking or rewriting statement on a server is a `cost` finding; default 64 MiB. */
  largeTableBytes?: number;
}

export interface UpgradeConfig {
  /** Name of the service, `[A-Za-z0-9._-]+`; names backups and runs. Required. */
  name: string;
  /** URL of the database to upgrade: `sqlite:./data.sqlite`, `postgres://...`, `mysql://...`. Required. */
  database: string;
  /** How backups are taken (PostgreSQL and MySQL options; SQLite always uses its online backup API). */
  backup?: BackupOptions;
  /** How the database schema is migrated: a drizzle-kit folder or the service's own command. */
  migrations?: DrizzleMigrations | CommandMigrations;
  /**
   * Regular files backed up and restored byte-identically, with mode and owner, with the database
   * (e.g. the service's config). A symbolic link is followed: its target is backed up and restored,
   * the link stays a link.
   */
  files?: string[];
  /**
   * Directory of backups, leases and the default journal. Default: `.upgrade` beside the config
   * file. Created 0700 when missing; an existing directory is left as it is (backups go into
   * `<stateDir>/backups`, a 0700 folder of the tool's own).
   */
  stateDir?: string;
  /** URL of the journal database. Default: `sqlite:<stateDir>/journal.sqlite`. */
  journal?: string;
  /**
   * The lint of the pending drizzle migrations against the data, before the announcement
   * (default on); `false` turns it off.
   */
  lint?: false | LintConfig;
  /**
   * The rehearsal before the announcement: the pending migrations applied to a scratch copy of the
   * hot backup, then the copy dropped; a migration that fails there ends the run `aborted` with no
   * downtime. Default: on for `migrations.drizzle`, off for `migrations.command`. `false` turns it
   * off; `{ "command": [...] }` runs that command against the copy (`{databaseUrl}`, or
   * `{databasePath}` for SQLite, in its arguments), e.g. to rehearse `migrations.command`.
   */
  rehearse?: boolean | CommandSpec;
  /** Downtime announcement and grace period. */
  announce?: AnnounceConfig;
  /** Stop, start and health check of the service. */
  service?: ServiceConfig;
  /** Version query, upgrade and downgrade of the service's software. */
  package?: PackageConfig;
  /** Commands that must succeed after the migration, before the service starts. */
  verify?: CommandSpec[];
  /** Extra environment variables for every command. */
  env?: Record<string, string>;
  /**
   * A preset (`"jupyterhub"`): in a config file, with the preset's own block (`"jupyterhub": {...}`),
   * which the preset expands into the keys above before validation.
   */
  preset?: string;
  /** Set by the preset's expansion: what its steps need (names and URLs, never secrets). */
  presetOptions?: Record<string, unknown>;
  /** The config's JSON Schema, for editors (`upgrade-machine schema > upgrade.schema.json`); ignored. */
  $schema?: string;
}

/** A command after resolution: `argv[0]` and `cwd` absolute where they were relative. */
export interface ResolvedCommandSpec extends CommandSpec {
  /** Absolute working directory (default: the config file's directory). */
  cwd: string;
}

/** Migrations after resolution: the drizzle folder absolute, or a resolved command. */
export type ResolvedMigrations = DrizzleMigrations | ({ command: string[] } & Omit<ResolvedCommandSpec, "command">);

/** The configuration ready to run: validated, defaults applied, every path absolute. */
export interface ResolvedConfig {
  /** Absolute path of the config file, or null when the config was given in code. */
  configPath: string | null;
  /** Absolute directory against which relative paths were resolved. */
  baseDir: string;
  /** Name of the service. */
  name: string;
  /** The database URL as written (may contain a password: print `describeTarget(target)` instead). */
  database: string;
  /** The parsed database URL; a SQLite path is absolute. */
  target: DatabaseTarget;
  /** Backup options; `toolsPath` entries absolute. */
  backup: BackupOptions;
  /** Migrations, with an absolute drizzle folder or a resolved command. */
  migrations?: ResolvedMigrations;
  /** Absolute paths of the files backed up with the database (default: none). */
  files: string[];
  /** Absolute state directory. */
  stateDir: string;
  /** Journal URL; a SQLite journal has an absolute path. */
  journal: string;
  /** The parsed journal URL. */
  journalTarget: DatabaseTarget;
  /** The lint's options as written; `false` when it is off (default: on, destructive refused). */
  lint?: false | LintConfig;
  /** The rehearsal: on (`true`), off (`false`), or a command run against the scratch copy (resolved). Default true. */
  rehearse: boolean | ResolvedCommandSpec;
  /** Announcement; `command` resolved, `withdraw` resolved. */
  announce?: Omit<AnnounceConfig, "withdraw"> & { withdraw?: ResolvedCommandSpec | { http: HttpSpec } };
  /** Service control with resolved commands. */
  service?: {
    stop?: ResolvedCommandSpec | { http: HttpSpec; waitSeconds?: number };
    start?: ResolvedCommandSpec & { settleSeconds?: number };
    health?: ServiceConfig["health"];
  };
  /** Package commands, resolved. */
  package?: { version?: ResolvedCommandSpec; upgrade?: ResolvedCommandSpec; downgrade?: ResolvedCommandSpec };
  /** Verification commands, resolved (default: none). */
  verify: ResolvedCommandSpec[];
  /** Extra environment for every command (default: empty). */
  env: Record<string, string>;
  /** The preset the config was expanded from; its step effects replace the general ones. */
  preset?: string;
  /** The preset's options, as its expansion set them. */
  presetOptions?: Record<string, unknown>;
}
