import type { StepName } from "../../machines/index.js";
import type { BackupArtifact, ChangeMark, Fingerprint } from "../adapters/types.js";
import type { FileCopy } from "../fs/files.js";
import type { FileStamp } from "../fs/stamp.js";
import type { LinkHop, ResolvedPath } from "../fs/links.js";
import { anyValue, arrayOf, bool, either, literal, nullable, num, object, optional, recordOf, str, type Guard } from "./json-guard.js";
import type {
  BackupOutput,
  CommandRecord,
  HotBackup,
  HttpAnswer,
  MigrateOutput,
  PreflightOutput,
  RehearseOutput,
  RestoreDatabaseOutput,
  SealOutput,
  StartOutcome,
  StepOutputs,
  UnreadOutput,
} from "./outputs.js";

// The checks an output read back from the journal must pass. Fields that older versions did
// not write are optional (FileCopy's links and owner, preflight's databaseFile and database,
// restoreDatabase's fingerprint): a run started by an older version is still read.

const linkHop = object<LinkHop>({ path: str, target: str });

const resolvedPath = object<ResolvedPath>({ path: str, realPath: str, link: nullable(str), links: arrayOf(linkHop) });

const fileCopy = object<FileCopy>({
  path: str,
  realPath: optional(str),
  link: optional(nullable(str)),
  links: optional(arrayOf(linkHop)),
  exists: bool,
  backup: nullable(str),
  sha256: nullable(str),
  mode: nullable(num),
  uid: optional(nullable(num)),
  gid: optional(nullable(num)),
  bytes: num,
});

const artifact = object<BackupArtifact>({ path: str, bytes: num, sha256: str, format: str, createdAt: str });

const fingerprint = object<Fingerprint>({
  schema: str,
  tables: recordOf(object<{ rows: number; hash: string }>({ rows: num, hash: str })),
  hash: str,
});

const fileStamp = object<FileStamp>({ dev: str, ino: str, size: str, mtimeNs: str, ctimeNs: str });

/** A change mark: its `how`, and whatever the dialect keeps beside it. */
const changeMark: Guard<ChangeMark> = (v, where): v is ChangeMark => object<{ how: string }>({ how: str })(v, where);

type HotExtras = Omit<HotBackup, keyof BackupArtifact>;

const hotBackup: Guard<HotBackup> = (v, where): v is HotBackup =>
  artifact(v, where) &&
  object<HotExtras>({ fingerprint: nullable(fingerprint), stamp: optional(fileStamp), mark: optional(changeMark), noMark: optional(str) })(
    v,
    where,
  );

/** preflight's output, as every version wrote it. */
export const preflightOutput = object<PreflightOutput>({
  fromVersion: nullable(str),
  toVersion: nullable(str),
  serviceWasRunning: nullable(bool),
  databaseBytes: nullable(num),
  pendingMigrations: nullable(arrayOf(str)),
  databaseFile: optional(nullable(resolvedPath)),
  database: optional(recordOf(anyValue)),
});

const backupOutput = object<BackupOutput>({ database: nullable(hotBackup), databaseSkipped: optional(str), files: arrayOf(fileCopy) });

/** seal's output: the restore point, its fingerprint, how it was proven, the files' copies. */
export const sealOutput = object<SealOutput>({
  restorePoint: artifact,
  fingerprint,
  reusedHotBackup: bool,
  proof: optional(str),
  files: arrayOf(fileCopy),
});

/** restoreDatabase's output, as every version wrote it. */
export const restoreDatabaseOutput = object<RestoreDatabaseOutput>({ restored: str, sha256: str, fingerprint: optional(str) });

/** A command's result as the journal keeps it. */
export const commandRecord = object<CommandRecord>({ argv: arrayOf(str), exitCode: num, stdout: str, stderr: str, durationMs: num });

/** An HTTP answer. */
export const httpAnswer = object<HttpAnswer>({ status: num });

/** A start step's process, started or adopted. */
export const startOutcome = object<StartOutcome>({
  argv: arrayOf(str),
  pid: num,
  exited: bool,
  adopted: optional(either(literal("process"), literal("answers"))),
});

/** The built-in migrate's output: drizzle's applied migrations, or the migrate command's result. */
export const migrateOutput: Guard<MigrateOutput> = either(
  object<{ applied: string[]; alreadyApplied: number }>({ applied: arrayOf(str), alreadyApplied: num }),
  commandRecord,
);

/** rehearse's output: the migrations' time on the scratch copy, what it applied, how the copy was made. */
export const rehearseOutput = object<RehearseOutput>({
  seconds: num,
  applied: arrayOf(str),
  copyBytes: num,
  copy: str,
  copySeconds: num,
  command: optional(commandRecord),
});

/** Any JSON value: the output of a step nothing reads into. */
const unread: Guard<UnreadOutput> = (v, where): v is UnreadOutput => {
  if (v !== undefined) return true;
  where?.push("a JSON value");
  return false;
};

/** The check of every step's output, by step. */
export const OUTPUT_GUARDS: { [S in StepName]: Guard<StepOutputs[S]> } = {
  preflight: preflightOutput,
  backup: backupOutput,
  lint: unread,
  rehearse: rehearseOutput,
  announce: unread,
  grace: unread,
  stop: unread,
  seal: sealOutput,
  upgradePackage: unread,
  migrate: unread,
  verify: unread,
  start: unread,
  health: unread,
  restartService: unread,
  withdrawAnnouncement: unread,
  stopNewVersion: unread,
  restoreDatabase: restoreDatabaseOutput,
  restoreFiles: unread,
  reinstallPrevious: unread,
  startPrevious: unread,
  verifyRestore: unread,
};
