import type { CommandSpec } from "../config/types.js";
import { runChecked, type CommandResult } from "../process/command.js";
import { spawnDetached } from "../process/detached.js";
import { probe } from "../process/http.js";
import { processStartTime } from "../process/identity.js";
import { liveStartedProcess, readStartRecord, startRecordPath, writeStartRecord, type StartRecord } from "../process/start-record.js";
import { join } from "node:path";
import { versionFromOutput } from "../versions.js";
import type { CommandRecord, StartOutcome } from "./outputs.js";
import type { StepContext } from "./types.js";

const DEFAULT_TIMEOUT_S = 600;

/** `{fromVersion}` and `{toVersion}` of this run. */
export function placeholders(ctx: StepContext): Record<string, string | null> {
  return { fromVersion: ctx.run.fromVersion, toVersion: ctx.run.toVersion };
}

/** A command's result with what the journal may keep of it: argv and output with secrets redacted. */
export type ShownResult = CommandResult & { shown?: { argv: string[]; stdout: string; stderr: string } };

/** Runs a configured command to completion; E_COMMAND when it exits non-zero. */
export async function runSpec(ctx: StepContext, spec: CommandSpec, defaultTimeoutS = DEFAULT_TIMEOUT_S): Promise<ShownResult> {
  ctx.log(`$ ${spec.command.join(" ")}`);
  const result = await runChecked({
    argv: spec.command,
    cwd: spec.cwd ?? ctx.config.baseDir,
    env: { ...ctx.config.env, ...spec.env },
    timeoutMs: (spec.timeoutSeconds ?? defaultTimeoutS) * 1000,
    placeholders: placeholders(ctx),
    signal: ctx.signal,
  });
  return { ...result, shown: { argv: result.argv.map(ctx.redact), stdout: ctx.redact(result.stdout), stderr: ctx.redact(result.stderr) } };
}

/**
 * Starts a configured command detached; its output goes to `<stateDir>/logs/service.log`. The
 * process is recorded durably in `<stateDir>/run/<step>.json` right after the spawn, before the
 * settle window. Re-run after a crash (attempt > 1) when an earlier attempt had started
 * something, the step adopts the recorded process while it runs, or else (unless
 * `adoptIfAnswers` is false) a service that answers the health URL, instead of starting a second
 * instance. A crash before the earlier attempt spawned anything leaves no record: it starts.
 */
export async function startSpec(
  ctx: StepContext,
  spec: CommandSpec & { settleSeconds?: number },
  options: { adoptIfAnswers?: boolean } = {},
): Promise<StartOutcome> {
  const file = startRecordPath(ctx.config.stateDir, ctx.step);
  if (ctx.attempt > 1) {
    const adopted = await adoptStarted(ctx, file, options.adoptIfAnswers ?? true);
    if (adopted) return adopted;
  }
  ctx.log(`$ ${spec.command.join(" ")} (detached)`);
  const record = (argv: string[], pid: number, state: StartRecord["state"], startTime: string | null): StartRecord => ({
    runId: ctx.runId,
    step: ctx.step,
    attempt: ctx.attempt,
    argv,
    pid,
    startTime,
    state,
    at: new Date().toISOString(),
  });
  let startTime: string | null = null;
  const started = await spawnDetached({
    argv: spec.command,
    cwd: spec.cwd ?? ctx.config.baseDir,
    env: { ...ctx.config.env, ...spec.env },
    placeholders: placeholders(ctx),
    logFile: join(ctx.config.stateDir, "logs", "service.log"),
    settleMs: (spec.settleSeconds ?? 1) * 1000,
    onSpawn: (pid, argv) => {
      startTime = processStartTime(pid);
      writeStartRecord(file, record(argv, pid, "settling", startTime));
    },
  });
  writeStartRecord(file, record(started.argv, started.pid, started.exited ? "exited" : "running", startTime));
  return started;
}

async function adoptStarted(ctx: StepContext, file: string, ifAnswers: boolean): Promise<StartOutcome | null> {
  if (!readStartRecord(file, ctx.runId)) return null;
  const live = liveStartedProcess(file, ctx.runId);
  if (live) {
    ctx.log(`process ${live.pid} started by attempt ${live.attempt} still runs: adopting it instead of starting another`);
    return { argv: live.argv, pid: live.pid, exited: false, adopted: "process" };
  }
  const health = ctx.config.service?.health;
  const answer = health && ifAnswers ? await probe(health.url) : null;
  if (answer) {
    ctx.log(`the service already answers (status ${answer.status}): not starting another instance`);
    return { argv: [], pid: -1, exited: true, adopted: "answers" };
  }
  return null;
}

/** The part of a command's result worth keeping in the journal (its redacted form, from `runSpec`). */
export function commandOutput(result: ShownResult): CommandRecord {
  const shown = result.shown ?? result;
  return { argv: shown.argv, exitCode: result.exitCode, stdout: shown.stdout, stderr: shown.stderr, durationMs: result.durationMs };
}

/**
 * Reads the installed version with `package.version`: the last non-empty line of its stdout,
 * which must be a version as a whole (`code`, default E_VERSION, when it is not); null when
 * `package.version` is not configured.
 */
export async function readVersion(ctx: StepContext, code: "E_VERSION" | "E_PREFLIGHT" = "E_VERSION"): Promise<string | null> {
  const spec = ctx.config.package?.version;
  if (!spec) return null;
  const result = await runSpec(ctx, spec, 60);
  return versionFromOutput(result.stdout, result.argv, code);
}
