import { listBackups, listRuns, plan, resume, status, upgrade, history } from "../api.js";
import { stepOutcomes, type RunResult } from "../runner/result.js";
import { EXIT, type CliIo } from "./io.js";
import type { CliArgs } from "./main.js";
import { printResult, renderer, type OutputMode } from "./render.js";

/** The help text. */
export const USAGE = `upgrade-machine: safe, resumable upgrades of a database-backed service

usage: upgrade-machine <command> [--config FILE] [options]

commands:
  run      [--to VERSION]  back up, announce, stop, upgrade, migrate, verify, start; roll back on failure
  resume   [--run ID]      continue an interrupted run from its journal
  status   [--run ID]      state of the latest run (none, running, completed, rolledBack, aborted, failed)
  history  [--run ID]      the runs of this target, or one run's events (hash chain verified)
  plan     [--to VERSION]  the steps that would run and the pending migrations; changes nothing
  backups  [--verify]      the backups in the state directory; --verify re-hashes them

options:
  -c, --config FILE   the config (.json, .ts, .js); default ./upgrade.json or $UPGRADE_MACHINE_CONFIG
  --json              NDJSON output
  -h, --help

exit codes: 0 completed, 1 rolled back or aborted, 2 usage or config error, 3 failed (a person is
needed), 4 busy (another process drives the target, or an unfinished run exists: use resume)
`;

function mode(args: CliArgs, io: CliIo): OutputMode {
  return args.json ? "json" : io.stderr.isTTY ? "tty" : "plain";
}

function exitOf(result: RunResult): number {
  switch (result.state) {
    case "completed":
      return EXIT.ok;
    case "rolledBack":
    case "aborted":
      return EXIT.rolledBack;
    case "running":
      return EXIT.busy;
    default:
      return EXIT.failed;
  }
}

async function runCommand(args: CliArgs, io: CliIo): Promise<number> {
  const m = mode(args, io);
  const result = await upgrade(args.config, { cwd: io.cwd, toVersion: args.to ?? null, onEvent: renderer(io, m) });
  printResult(io, m, result);
  return exitOf(result);
}

async function resumeCommand(args: CliArgs, io: CliIo): Promise<number> {
  const m = mode(args, io);
  const result = await resume(args.config, { cwd: io.cwd, onEvent: renderer(io, m), ...(args.run ? { runId: args.run } : {}) });
  printResult(io, m, result);
  return exitOf(result);
}

async function statusCommand(args: CliArgs, io: CliIo): Promise<number> {
  const s = await status(args.config, { cwd: io.cwd, ...(args.run ? { runId: args.run } : {}) });
  if (args.json) {
    io.stdout.write(`${JSON.stringify(s)}\n`);
  } else if (s.state === "none") {
    io.stdout.write("no run yet\n");
  } else {
    io.stdout.write(`run ${s.runId}: ${s.state}${s.step ? ` at ${s.step}` : ""} (${s.fromVersion ?? "?"} -> ${s.toVersion ?? "?"})\n`);
    if (s.state === "running") io.stdout.write("  unfinished: continue it with `upgrade-machine resume`\n");
  }
  return EXIT.ok;
}

async function historyCommand(args: CliArgs, io: CliIo): Promise<number> {
  if (!args.run && !args.json) {
    const runs = await listRuns(args.config, { cwd: io.cwd });
    if (!runs.length) io.stdout.write("no run yet\n");
    for (const run of runs) {
      const s = await status(args.config, { cwd: io.cwd, runId: run.runId });
      io.stdout.write(`${run.runId}  ${run.createdAt}  ${s.state.padEnd(10)}  ${s.fromVersion ?? "?"} -> ${s.toVersion ?? "?"}\n`);
    }
    return EXIT.ok;
  }
  const h = await history(args.config, { cwd: io.cwd, ...(args.run ? { runId: args.run } : {}) });
  if (args.json) {
    for (const e of h.events) io.stdout.write(`${JSON.stringify(e)}\n`);
    return EXIT.ok;
  }
  for (const e of h.events) {
    const err = e.type === "step.failed" ? ` ${(e.payload.error as { code?: string })?.code} ${(e.payload.error as { message?: string })?.message}` : "";
    const skip = typeof e.payload.skipped === "string" ? ` (skipped: ${e.payload.skipped})` : "";
    io.stdout.write(`${String(e.seq).padStart(4)}  ${e.at}  ${e.type.padEnd(15)} ${e.step ?? ""}${skip}${err}\n`);
  }
  for (const o of stepOutcomes(h.events)) {
    if (o.durationMs !== null && o.outcome !== "skipped") io.stdout.write(`      ${o.step}: ${o.outcome} in ${(o.durationMs / 1000).toFixed(2)} s\n`);
  }
  return EXIT.ok;
}

async function planCommand(args: CliArgs, io: CliIo): Promise<number> {
  const p = await plan(args.config, { cwd: io.cwd, toVersion: args.to ?? null });
  if (args.json) {
    io.stdout.write(`${JSON.stringify(p)}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`installed: ${p.installedVersion ?? "unknown"}; target: ${p.toVersion ?? "(as the package commands decide)"}\n`);
  if (p.pendingMigrations) io.stdout.write(`pending migrations now: ${p.pendingMigrations.length ? p.pendingMigrations.join(", ") : "none"} (the new package may bring more)\n`);
  for (const s of p.steps) io.stdout.write(`  ${s.action === "run" ? "run " : "skip"} ${s.step}${s.reason ? ` (${s.reason})` : ""}\n`);
  return EXIT.ok;
}

async function backupsCommand(args: CliArgs, io: CliIo): Promise<number> {
  const list = await listBackups(args.config, { cwd: io.cwd, verify: args.verify });
  let bad = 0;
  for (const b of list) {
    if (b.intact === false) bad++;
    if (args.json) io.stdout.write(`${JSON.stringify(b)}\n`);
    else io.stdout.write(`${b.runId}  ${b.path}  ${b.bytes ?? "?"} B  ${b.intact === null ? "" : b.intact ? "ok" : "CORRUPT OR MISSING"}\n`);
  }
  if (!list.length && !args.json) io.stdout.write("no backups\n");
  return bad ? EXIT.failed : EXIT.ok;
}

/** Every CLI command. */
export const COMMANDS = {
  run: runCommand,
  resume: resumeCommand,
  status: statusCommand,
  history: historyCommand,
  plan: planCommand,
  backups: backupsCommand,
} as const;
