// Checks of every built-in step's output against its declared type (BuiltInOutputs), so a test can
// prove that what real runs journal is what the types say.
import { STEP_NAMES, type StepName, type UpgradeContext } from "../../machines/index.js";
import { arrayOf, either, literal, nullable, num, object, optional, str, type Guard } from "../../src/steps/json-guard.js";
import type { LintFinding } from "../../src/lint/findings.js";
import { commandRecord, httpAnswer, migrateOutput, OUTPUT_GUARDS, startOutcome } from "../../src/steps/output-guards.js";
import { outputReader, type OutputGuards } from "../../src/steps/output-of.js";
import type {
  AnnounceOutput,
  BuiltInOutputs,
  HealthOutput,
  LintOutput,
  PackageOutput,
  RunningCheck,
  StartAgainOutput,
  StopNewVersionOutput,
  StopOutput,
  VerifyRestoreOutput,
} from "../../src/steps/outputs.js";

const health = object<HealthOutput>({ status: num, waitedMs: num });
const notify = either(commandRecord, httpAnswer);
const packaged = object<PackageOutput>({ command: commandRecord, installedVersion: nullable(str) });
const startAgain = object<StartAgainOutput>({ start: startOutcome, health: nullable(health) });
const running = object<RunningCheck>({ status: nullable(num), version: nullable(str), pid: nullable(num) });

const KINDS = ["destructive", "willFail", "cost", "cascade"] as const;
const finding = object<LintFinding>({
  rule: str as Guard<LintFinding["rule"]>,
  kind: either(either(literal(KINDS[0]), literal(KINDS[1])), either(literal(KINDS[2]), literal(KINDS[3]))),
  migration: str,
  statement: num,
  sql: str,
  table: str,
  column: optional(str),
  rows: optional(num),
  values: optional(num),
  bytes: optional(num),
  message: str,
});

const GUARDS: OutputGuards<BuiltInOutputs> = {
  ...OUTPUT_GUARDS,
  lint: object<LintOutput>({ source: str, pending: arrayOf(str), findings: arrayOf(finding) }),
  announce: object<AnnounceOutput>({ command: optional(commandRecord), webhook: optional(httpAnswer) }),
  grace: object<{ deadline: string }>({ deadline: str }),
  stop: object<StopOutput>({ stop: either(literal("already down"), notify), waitedMs: nullable(num) }),
  upgradePackage: packaged,
  migrate: migrateOutput,
  verify: object<BuiltInOutputs["verify"]>({ checks: arrayOf(commandRecord), pending: arrayOf(str) }),
  start: startOutcome,
  health,
  restartService: startAgain,
  withdrawAnnouncement: notify,
  stopNewVersion: object<StopNewVersionOutput>({
    stop: either(either(literal("already down"), literal("no service.stop")), notify),
    stopError: optional(nullable(object<{ code: string; message: string }>({ code: str, message: str }))),
    waitedMs: num,
    pid: nullable(num),
    signals: arrayOf(str),
  }),
  restoreFiles: object<BuiltInOutputs["restoreFiles"]>({ restored: arrayOf(str) }),
  reinstallPrevious: packaged,
  startPrevious: startAgain,
  verifyRestore: object<VerifyRestoreOutput>({ fingerprint: str, files: num, version: nullable(str), running }),
};

const { maybeOutputOf } = outputReader<BuiltInOutputs>(GUARDS);

/** The steps whose outputs the run journaled, each read back through the built-in steps' checks (E_JOURNAL_MISMATCH on the first that differs). */
export function readBuiltInOutputs(run: UpgradeContext): StepName[] {
  return STEP_NAMES.filter((step) => maybeOutputOf(run, step) !== undefined);
}
