import type { BackupArtifact, ChangeMark, Fingerprint } from "../adapters/types.js";
import type { LintFinding } from "../lint/findings.js";
import type { FileCopy } from "../fs/files.js";
import type { FileStamp } from "../fs/stamp.js";
import type { ResolvedPath } from "../fs/links.js";

// Every step's output as the journal keeps it. The JSON shapes are a contract with journals
// written by earlier versions: a field added later is optional here, and none is renamed.

/** A command's result as the journal keeps it: argv and output with secrets redacted. */
export interface CommandRecord {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** What an HTTP request (a webhook, an HTTP stop) was answered. */
export interface HttpAnswer {
  status: number;
}

/** What preflight found out. */
export interface PreflightOutput {
  fromVersion: string | null;
  toVersion: string | null;
  /** Whether the service answered before the run; null when it cannot be told (no health URL). */
  serviceWasRunning: boolean | null;
  databaseBytes: number | null;
  pendingMigrations: string[] | null;
  /** The database file and the symbolic links leading to it (SQLite); absent in older journals. */
  databaseFile?: ResolvedPath | null;
  /** What the database adapter chose (server version, backup strategy, client tools), when it says. */
  database?: Record<string, unknown>;
}

/** The hot backup of the database, as the backup step keeps it. */
export interface HotBackup extends BackupArtifact {
  /** The backup's content (null when the dialect can fingerprint neither the backup nor, under a mark, the live database). */
  fingerprint: Fingerprint | null;
  /** The backup file's stamp once hashed: the seal proves it intact without reading it. Absent in older journals. */
  stamp?: FileStamp;
  /**
   * The database's change mark, taken before the backup and proven unchanged after it (and after
   * the fingerprint): the backup is the database's state at the mark. Absent when none.
   */
  mark?: ChangeMark;
  /** Why there is no `mark` (the dialect cannot take one now, or the database was written during the backup). */
  noMark?: string;
}

/** The hot backup, taken while the service still runs. */
export interface BackupOutput {
  /** null when the adapter could not take one (see `databaseSkipped`): seal then takes the restore point. */
  database: HotBackup | null;
  /** Why there is no hot backup of the database. */
  databaseSkipped?: string;
  files: FileCopy[];
}

/**
 * rehearse: the pending migrations applied to a scratch copy of the hot backup (then dropped).
 * `seconds` is the migrations' time on the copy: `plan` takes the last one as the downtime estimate.
 */
export interface RehearseOutput {
  /** Seconds the migrations took on the copy (the copy's own making not counted). */
  seconds: number;
  /** The migrations applied to the copy (drizzle tags), or `[]` for a command. */
  applied: string[];
  /** The copy's size: the database's bytes it held. */
  copyBytes: number;
  /** How the copy was made, e.g. `file copy`, `CREATE DATABASE ... TEMPLATE`, `pg_restore into a scratch database`. */
  copy: string;
  /** Seconds the copy took to make and drop. */
  copySeconds: number;
  /** The rehearsal command's result, when the migrations are a command. */
  command?: CommandRecord;
}

/** The restore point, exact as of the stop. */
export interface SealOutput {
  restorePoint: BackupArtifact;
  fingerprint: Fingerprint;
  /** True when the hot backup already equalled the stopped database. */
  reusedHotBackup: boolean;
  /**
   * How the restore point was proven equal to the stopped database: the change mark's `how` (no
   * fingerprint of the live database), `fingerprint` (the live database's compared with the hot
   * backup's), or `copy` (taken after the stop). Absent in older journals.
   */
  proof?: string;
  files: FileCopy[];
}

/** The restore of the database, with the proof verifyRestore checks. */
export interface RestoreDatabaseOutput {
  /** The restore point's path. */
  restored: string;
  sha256: string;
  /** The restored database's fingerprint hash, taken before any service wrote to it; absent in older journals. */
  fingerprint?: string;
}

/** announce: what each configured way of telling the users answered. */
export interface AnnounceOutput {
  command?: CommandRecord;
  webhook?: HttpAnswer;
}

/** lint: what was read, the pending migrations, and every finding (destructive ones allowed, cost, cascade). */
export interface LintOutput {
  /** The snapshot read (the hot backup's path, or the database and its transaction). */
  source: string;
  /** The pending migrations linted, by tag. */
  pending: string[];
  findings: LintFinding[];
}

/** withdrawAnnouncement: the withdraw command's result or the webhook's answer. */
export type NotifyOutput = CommandRecord | HttpAnswer;

/** grace: when the grace period ended (counted from the step's first start). */
export interface GraceOutput {
  deadline: string;
}

/** stop: what the stop did (`already down` on a re-run after a crash) and how long the service took to go. */
export interface StopOutput {
  stop: "already down" | HttpAnswer | CommandRecord;
  /** null without a health URL or a recorded pid to wait on. */
  waitedMs: number | null;
}

/** upgradePackage and reinstallPrevious: the install command and the version installed after it. */
export interface PackageOutput {
  command: CommandRecord;
  installedVersion: string | null;
}

/** migrate: the drizzle migrations applied, or the service's own migrate command. */
export type MigrateOutput = { applied: string[]; alreadyApplied: number } | CommandRecord;

/** verify: the verify commands' results and the drizzle migrations still pending (none). */
export interface VerifyOutput {
  checks: CommandRecord[];
  pending: string[];
}

/** start: what a start step did: started a process, or adopted one a crashed attempt had started. */
export interface StartOutcome {
  argv: string[];
  pid: number;
  exited: boolean;
  /** Set when nothing was started: a live recorded process (`process`) or a service that answers (`answers`). */
  adopted?: "process" | "answers";
}

/** health: the healthy answer and how long it took. */
export interface HealthOutput {
  status: number;
  waitedMs: number;
}

/** restartService and startPrevious: the start, then the health check (null without a health URL). */
export interface StartAgainOutput {
  start: StartOutcome;
  health: HealthOutput | null;
}

/** stopNewVersion: how the new version was stopped and proven down. */
export interface StopNewVersionOutput {
  stop: "already down" | "no service.stop" | HttpAnswer | CommandRecord;
  /** The stop's failure, when it failed and the service went down anyway; absent when it was already down. */
  stopError?: { code: string; message: string } | null;
  waitedMs: number;
  /** The process this run started as the new version, when one was recorded. */
  pid: number | null;
  /** Signals sent to its process group after it outlived the stop. */
  signals: string[];
}

/** restoreFiles: the configured paths put back. */
export interface RestoreFilesOutput {
  restored: string[];
}

/** The proof of the restored data (`proveRestore`). */
export interface RestoreProof {
  /** The restore point's fingerprint hash, which the restored database was proven to equal. */
  fingerprint: string;
  /** How many backed-up files were checked. */
  files: number;
  /** The installed version after the rollback (null without `package.version`). */
  version: string | null;
}

/** What the end-of-rollback check saw. */
export interface RunningCheck {
  /** The health URL's status, null when nothing answered (or no health URL). */
  status: number | null;
  /** The version the health answer names (a JSON `version` field), when it names one. */
  version: string | null;
  /** The pid of the previous version when this run started it in the foreground. */
  pid: number | null;
}

/** verifyRestore: the proof of the data, then which version runs. */
export interface VerifyRestoreOutput extends RestoreProof {
  running: RunningCheck;
}

/**
 * The output of a step no other part of upgrade-machine reads (only whether it succeeded): any
 * value JSON can hold. A replacement of such a step (`upgrade(config, { steps })`) may return
 * what it likes; the built-in step's own type is in `BuiltInOutputs`.
 */
export type UnreadOutput = object | string | number | boolean | null;

/**
 * Every step's output as later steps, the rollback, `listBackups`, `abandon` and the manual
 * instructions read it back (`outputOf`, `maybeOutputOf`). It is the contract of
 * `StepDefinition<S>`: a step's `run` returns `StepOutputs[S]`, or a type that extends it (the
 * built-in steps' `BuiltInOutputs`, a preset's own map).
 */
export interface StepOutputs {
  /** Read by stop, restartService, startPrevious, the rollback's checks and the manual instructions. */
  preflight: PreflightOutput;
  /** Read by seal, `listBackups` and `abandon`. */
  backup: BackupOutput;
  lint: UnreadOutput;
  /** Read by `plan` (the last rehearsal's time is the downtime estimate). */
  rehearse: RehearseOutput;
  announce: UnreadOutput;
  grace: UnreadOutput;
  stop: UnreadOutput;
  /** Read by the rollback, `listBackups`, `abandon` and the manual instructions. */
  seal: SealOutput;
  upgradePackage: UnreadOutput;
  migrate: UnreadOutput;
  verify: UnreadOutput;
  start: UnreadOutput;
  health: UnreadOutput;
  restartService: UnreadOutput;
  withdrawAnnouncement: UnreadOutput;
  stopNewVersion: UnreadOutput;
  /** Read by verifyRestore: its fingerprint proves the restore. */
  restoreDatabase: RestoreDatabaseOutput;
  restoreFiles: UnreadOutput;
  reinstallPrevious: UnreadOutput;
  startPrevious: UnreadOutput;
  verifyRestore: UnreadOutput;
}

/** What each built-in step returns (`defaultSteps`); the compiler checks that each extends `StepOutputs`. */
export interface BuiltInOutputs extends StepOutputs {
  lint: LintOutput;
  announce: AnnounceOutput;
  grace: GraceOutput;
  stop: StopOutput;
  upgradePackage: PackageOutput;
  migrate: MigrateOutput;
  verify: VerifyOutput;
  start: StartOutcome;
  health: HealthOutput;
  restartService: StartAgainOutput;
  withdrawAnnouncement: NotifyOutput;
  stopNewVersion: StopNewVersionOutput;
  restoreFiles: RestoreFilesOutput;
  reinstallPrevious: PackageOutput;
  startPrevious: StartAgainOutput;
  verifyRestore: VerifyRestoreOutput;
}
