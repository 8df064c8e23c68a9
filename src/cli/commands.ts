import { listBackups, listRuns, plan, resume, status, upgrade, history } from "../api.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { foldJournal } from "../runner/fold.js";
import { runResult, type RunResult } from "../runner/result.js";
import type { DriveOptions } from "../session.js";
import { graphCommand } from "./graph-command.js";
import { eventsTable, formatDuration, formatTable, formatTime } from "./history-table.js";
import { withInspector } from "./inspect.js";
import { EXIT, type CliIo } from "./io.js";
import type { CliArgs } from "./main.js";
import { printResult, renderer, type OutputMode } from "./render.js";
import { viewCommand } from "./view-command.js";

/** The help text. */
export const USAGE = `upgrade-machine: safe, resumable upgrades of a database-backed service

usage: upgrade-machine <command> [--config FILE] [options]

commands:
  run      [--to VERSION] [--inspect [--port N]]
                           back up, announce, stop, upgrade, migrate, verify, start; roll back on failure
  resume   [--run ID] [--inspect [--port N]]
                           continue an interrupted run from its journal
  status   [--run ID]      state of the latest run (none, running, completed, rolledBack, aborted, failed)
  history  [--run ID]      a table of the runs of this target, or of one run's events (time, step,
                           duration, result, error); the hash chain is verified (E_JOURNAL_TAMPERED)
  plan     [--to VERSION]  the steps that would run and the pending migrations; changes nothing
  backups  [--verify]      the backups in the state directory; --verify re-hashes them
  view     [--port N] [--host ADDR]
                           serve a live page of the machine and the journal (loopback, token in the
                           URL, nothing loaded from the internet); stop with Ctrl-C
  graph    [--format mermaid|dot|json]
                           print the machine's states and transitions (needs no config)

options:
  -c, --config FILE   the config (.json, .ts, .js); default ./upgrade.json or $UPGRADE_MACHINE_CONFIG
  --json              NDJSON output
  --inspect           serve @statelyai/inspect's WebSocket relay (default port 8080) and print the
                      page that shows the run in Stately's inspector (that page needs the internet)
  --port N            port of the live view (default: a free one) or of the inspector (default 8080)
  --host ADDR         address of the live view (default 127.0.0.1)
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

async function runCommand(args: CliArgs, io: CliIo, inspect?: DriveOptions["inspect"]): Promise<number> {
  const m = mode(args, io);
  const result = await upgrade(args.config, { cwd: io.cwd, toVersion: args.to ?? null, onEvent: renderer(io, m), ...(inspect ? { inspect } : {}) });
  printResult(io, m, result);
  return exitOf(result);
}

async function resumeCommand(args: CliArgs, io: CliIo, inspect?: DriveOptions["inspect"]): Promise<number> {
  const m = mode(args, io);
  const result = await resume(args.config, { cwd: io.cwd, onEvent: renderer(io, m), ...(args.run ? { runId: args.run } : {}), ...(inspect ? { inspect } : {}) });
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
    let tampered: UpgradeError | undefined;
    const rows: string[][] = [];
    for (const run of runs) {
      try {
        const { events } = await history(args.config, { cwd: io.cwd, runId: run.runId });
        const r = runResult(run.runId, events, foldJournal(events));
        const failure = r.rollbackFailure ?? r.failure;
        const duration = events.length ? Date.parse(events[events.length - 1]!.at) - Date.parse(events[0]!.at) : null;
        rows.push([run.runId, formatTime(run.createdAt), r.state, r.step ?? "", `${r.fromVersion ?? "?"} -> ${r.toVersion ?? "?"}`, formatDuration(duration), failure ? `${failure.step}: ${failure.error.code}: ${failure.error.message}` : ""]);
      } catch (err) {
        if (!isUpgradeError(err, "E_JOURNAL_TAMPERED") && !isUpgradeError(err, "E_JOURNAL_MISMATCH")) throw err;
        tampered ??= err;
        rows.push([run.runId, formatTime(run.createdAt), "UNTRUSTED", "", "", "", `${err.code}: ${err.summary}`]);
      }
    }
    if (rows.length) io.stdout.write(formatTable(["RUN", "STARTED (UTC)", "STATE", "AT STEP", "VERSIONS", "DURATION", "ERROR"], rows));
    if (tampered) {
      io.stderr.write(`upgrade-machine: ${tampered.code}: ${tampered.message}\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  }
  // Opening a run verifies its hash chain: a changed event ends here with E_JOURNAL_TAMPERED.
  const h = await history(args.config, { cwd: io.cwd, ...(args.run ? { runId: args.run } : {}) });
  if (args.json) {
    for (const e of h.events) io.stdout.write(`${JSON.stringify(e)}\n`);
    return EXIT.ok;
  }
  if (!h.runId) {
    io.stdout.write("no run yet\n");
    return EXIT.ok;
  }
  const r = runResult(h.runId, h.events, foldJournal(h.events));
  io.stdout.write(`run ${h.runId}: ${r.state}${r.step && r.state !== "completed" ? ` at ${r.step}` : ""} (${r.fromVersion ?? "?"} -> ${r.toVersion ?? "?"}), ${h.events.length} events, hash chain verified\n`);
  io.stdout.write(eventsTable(h.events));
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
  for (const note of p.notes) io.stdout.write(`database: ${note}\n`);
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
  run: (args: CliArgs, io: CliIo) => withInspector(args.inspect, args.port, io, (inspect) => runCommand(args, io, inspect)),
  resume: (args: CliArgs, io: CliIo) => withInspector(args.inspect, args.port, io, (inspect) => resumeCommand(args, io, inspect)),
  status: statusCommand,
  history: historyCommand,
  plan: planCommand,
  backups: backupsCommand,
  graph: graphCommand,
  view: (args: CliArgs, io: CliIo) => viewCommand(args, io),
} as const;
