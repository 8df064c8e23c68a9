/**
 * The one table of error codes: each code's exit code (when it ends a command before or outside
 * a run) and one line of meaning. The CLI reads its exit codes here and the README's error list
 * is generated from it (`npm run reference`); a code is added here before it is thrown.
 */

/** Exit codes of the CLI, part of its contract. */
export const EXIT = {
  /** Completed, or nothing to do. */
  ok: 0,
  /** Rolled back or aborted: the previous version runs, data as at the restore point. */
  rolledBack: 1,
  /** Usage or configuration error: nothing changed. */
  usage: 2,
  /** Failed: a person is needed. */
  failed: 3,
  /** Busy: another process holds the target, or an unfinished run exists. */
  busy: 4,
} as const;

/** The name of an exit code (`usage`, `busy`...). */
export type ExitName = keyof typeof EXIT;

/** What each exit code tells the operator, one line each. */
export const EXIT_MEANINGS: Record<ExitName, string> = {
  ok: "completed (or nothing to do)",
  rolledBack: "rolled back or aborted: the previous version runs, data as at the restore point",
  usage: "usage or configuration error: nothing changed",
  failed: "failed: a person is needed (the output lists the commands to finish by hand)",
  busy: "busy: another process drives the target, or an unfinished run exists (use `resume`)",
};

/** One code of the table. */
export interface ErrorCodeInfo {
  /** The exit code of a command that this error ends before or outside a run. */
  exit: ExitName;
  /** One line: what went wrong. */
  meaning: string;
}

/** Every error code upgrade-machine throws, with its exit code and meaning. */
export const ERROR_CODES = {
  E_USAGE: {
    exit: "usage",
    meaning:
      "the command line or the request is wrong: an unknown command or flag, a flag the command does not take, a missing or bad value, a run that cannot take this command",
  },
  E_CONFIG: { exit: "usage", meaning: "the config is invalid: a field's type or range, an unknown key, a file that does not load" },
  E_URL: { exit: "usage", meaning: "a database URL cannot be parsed or names an unsupported dialect or option" },
  E_NOT_FOUND: {
    exit: "usage",
    meaning: "something named does not exist: the config file, the database, the journal, a run (or it is another target's run)",
  },
  E_MIGRATION_FOLDER: { exit: "usage", meaning: "the migrations folder is missing or malformed (`meta/_journal.json`, its `.sql` files)" },
  E_BUSY: { exit: "busy", meaning: "another process drives the target: it holds the target lock or the journal lease" },
  E_UNFINISHED: { exit: "busy", meaning: "the target has an unfinished run: `resume` it (or `abandon` it) before a new run" },
  E_PREFLIGHT: {
    exit: "rolledBack",
    meaning: "preflight refused the run before anything was touched (the installed version cannot be read or is not a version)",
  },
  E_CONNECT: { exit: "failed", meaning: "the database server cannot be reached or the connection broke" },
  E_AUTH: { exit: "failed", meaning: "a login was refused: the database server's, or the service's API token" },
  E_FENCED: { exit: "failed", meaning: "another process wrote the run's next journal event first: this driver lost its place" },
  E_LOCKED: { exit: "failed", meaning: "another process holds the database's migration lock" },
  E_CHECKSUM: { exit: "failed", meaning: "an applied migration's file was edited since it was applied (its hash differs)" },
  E_MIGRATION_ORDER: { exit: "failed", meaning: "a pending migration is older than the newest applied one" },
  E_MIGRATION_MISSING: { exit: "failed", meaning: "the database records applied migrations that the folder does not have" },
  E_LINT_DESTRUCTIVE: {
    exit: "rolledBack",
    meaning: "the lint refused the run before the announcement: a pending migration destroys data (allow it with --allow-destructive)",
  },
  E_LINT_WILL_FAIL: {
    exit: "rolledBack",
    meaning: "the lint refused the run before the announcement: a pending migration will fail on the data (NULLs, duplicates, orphans)",
  },
  E_MIGRATION_FAILED: { exit: "failed", meaning: "a migration failed (its transaction is rolled back where the dialect allows)" },
  E_FOREIGN_KEY: { exit: "failed", meaning: "a migration would leave rows that break a foreign key" },
  E_REHEARSAL: {
    exit: "failed",
    meaning:
      "the rehearsal on a scratch copy of the hot backup failed: a migration would fail on the real data (nothing was announced or stopped)",
  },
  E_BACKUP: { exit: "failed", meaning: "a backup could not be taken or failed its checks" },
  E_RESTORE: { exit: "failed", meaning: "a restore failed, or its source is not a usable backup" },
  E_VERIFY: {
    exit: "failed",
    meaning: "a check after the fact failed: migrations still pending, or the restored state differs from the restore point",
  },
  E_COMMAND: { exit: "failed", meaning: "a configured command failed: it exited non-zero, could not start, or was interrupted" },
  E_TIMEOUT: { exit: "failed", meaning: "a command or a wait outlived its timeout (a command's whole process group is ended)" },
  E_HTTP: { exit: "failed", meaning: "an HTTP request failed or answered an error status" },
  E_HEALTH: { exit: "failed", meaning: "the service did not answer healthy in time" },
  E_VERSION: { exit: "failed", meaning: "a version is not a version, or the installed version is not the expected one" },
  E_DISK_FULL: { exit: "failed", meaning: "no room left to write (backup folder, state directory, journal)" },
  E_JOURNAL: { exit: "failed", meaning: "the journal cannot be opened, read or written" },
  E_JOURNAL_TAMPERED: { exit: "failed", meaning: "the journal's hash chain is broken: an event was changed or removed by hand" },
  E_JOURNAL_MISMATCH: {
    exit: "failed",
    meaning:
      "the journal does not fit the machine: an event the flow cannot take, a step output missing or of a shape this version does not read",
  },
  E_TOOL_VERSION: { exit: "failed", meaning: "a dump or restore tool does not fit the server's version" },
  E_TOOL_MISSING: { exit: "failed", meaning: "a program or optional package that is needed is not installed" },
  E_STEP: {
    exit: "failed",
    meaning: "a step failed with no more specific code: a plain `Error` from your own step, a wait that was asked to stop",
  },
  E_INTERNAL: {
    exit: "failed",
    meaning: "a bug or a broken installation of upgrade-machine (run with UPGRADE_MACHINE_DEBUG=1 for the stack)",
  },
} as const satisfies Record<`E_${string}`, ErrorCodeInfo>;

/** A stable error code: a key of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The CLI's exit code for an error with `code` that ended a command before or outside a run. */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT[ERROR_CODES[code].exit];
}
