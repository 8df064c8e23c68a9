import type { CommandSpec } from "../config/types.js";
import { runChecked, startDetached, type CommandResult } from "../process/command.js";
import { join } from "node:path";
import { versionFromOutput } from "../versions.js";
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

/** Starts a configured command detached; its output goes to `<stateDir>/logs/service.log`. */
export function startSpec(ctx: StepContext, spec: CommandSpec & { settleSeconds?: number }) {
  ctx.log(`$ ${spec.command.join(" ")} (detached)`);
  return startDetached({
    argv: spec.command,
    cwd: spec.cwd ?? ctx.config.baseDir,
    env: { ...ctx.config.env, ...spec.env },
    placeholders: placeholders(ctx),
    logFile: join(ctx.config.stateDir, "logs", "service.log"),
    settleMs: (spec.settleSeconds ?? 1) * 1000,
  });
}

/** The part of a command's result worth keeping in the journal (its redacted form, from `runSpec`). */
export function commandOutput(result: ShownResult): { argv: string[]; exitCode: number; stdout: string; stderr: string; durationMs: number } {
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
