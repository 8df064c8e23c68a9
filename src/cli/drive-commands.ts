import { resolve } from "node:path";
import { abandon, restore, resume, upgrade, type DriveOptions, type RunResult } from "../api.js";
import { UpgradeError } from "../errors.js";
import { checkMetricsFile, writeRunMetrics } from "../metrics/index.js";
import { crashPointFromEnv } from "../testing/crash-point.js";
import { defineCommand, type ArgsOf } from "./define.js";
import { withInspector } from "./inspect.js";
import { EXIT, type CliIo } from "./io.js";
import { outputMode, printResult, renderer } from "./render.js";

/** The exit code of a run that ended (or stopped) with `result`. */
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

const INSPECT_FLAGS = {
  inspect: {
    type: "boolean",
    help: "serve @statelyai/inspect's WebSocket relay and print the page that shows the run in Stately's inspector (that page needs the internet)",
  },
  port: { type: "port", value: "N", help: "the inspector's port, with --inspect (default 8080)" },
  "inspect-host": {
    type: "string",
    value: "HOST",
    help: "the address the inspector listens on, with --inspect (default 127.0.0.1; any other exposes the run's events to the network)",
  },
  "metrics-file": {
    type: "string",
    value: "FILE",
    help: "write the run's metrics there in the Prometheus text format (node_exporter's textfile collector; atomically), whatever the run's end",
  },
} as const;

/**
 * What a driving command passes to the API: its renderer, the inspector, and the crash hook
 * (UPGRADE_MACHINE_CRASH_AFTER in the CLI's environment: a testing aid the library ignores);
 * then the metrics file, when asked, for whatever end the run came to.
 */
async function drive(args: ArgsOf<typeof INSPECT_FLAGS>, io: CliIo, go: (options: DriveOptions) => Promise<RunResult>): Promise<number> {
  if (args.port !== undefined && !args.inspect) {
    throw new UpgradeError("E_USAGE", "--port is the inspector's port: it needs --inspect", { hint: "add --inspect, or leave out --port" });
  }
  if (args["inspect-host"] !== undefined && !args.inspect) {
    throw new UpgradeError("E_USAGE", "--inspect-host is the inspector's address: it needs --inspect", {
      hint: "add --inspect, or leave out --inspect-host",
    });
  }
  const metricsFile = args["metrics-file"] === undefined ? null : resolve(io.cwd, args["metrics-file"]);
  if (metricsFile) await checkMetricsFile(metricsFile);
  const mode = outputMode(args.json, io);
  const afterAppend = crashPointFromEnv(io.env);
  return withInspector({ enabled: args.inspect, port: args.port, host: args["inspect-host"] }, io, async (inspect) => {
    const result = await go({
      cwd: io.cwd,
      onEvent: renderer(io, mode),
      ...(inspect ? { inspect } : {}),
      ...(afterAppend ? { afterAppend } : {}),
    });
    printResult(io, mode, result);
    if (metricsFile) await writeMetricsOrWarn(metricsFile, args.config, result, io);
    return exitOf(result);
  });
}

/** The run's end decides the exit code: a metrics file that cannot be written is only reported. */
async function writeMetricsOrWarn(file: string, config: string, result: RunResult, io: CliIo): Promise<void> {
  try {
    await writeRunMetrics(file, config, result, { cwd: io.cwd });
  } catch (err) {
    io.stderr.write(`upgrade-machine: warning: ${(err as Error).message}\n`);
  }
}

/** `upgrade-machine run`. */
export const runCommand = defineCommand({
  summary: "back up, announce, stop, upgrade, migrate, verify, start; roll back on failure",
  flags: {
    to: {
      type: "string",
      value: "VERSION",
      help: "the version to install: {toVersion} in the package commands, checked against package.version after",
    },
    "allow-destructive": {
      type: "boolean",
      help: "go on when the lint finds pending migrations that destroy data (DROP TABLE, DROP COLUMN...); kept for a resume",
    },
    ...INSPECT_FLAGS,
  },
  run: (args, io) =>
    drive(args, io, (options) =>
      upgrade(args.config, { ...options, toVersion: args.to ?? null, ...(args["allow-destructive"] ? { allowDestructive: true } : {}) }),
    ),
});

/** `upgrade-machine resume`. */
export const resumeCommand = defineCommand({
  summary: "continue an interrupted run from its journal",
  flags: {
    run: { type: "string", value: "ID", help: "the run to continue (default: the latest run of the target)" },
    ...INSPECT_FLAGS,
  },
  run: (args, io) => drive(args, io, (options) => resume(args.config, { ...options, ...(args.run ? { runId: args.run } : {}) })),
});

/** `upgrade-machine restore`. */
export const restoreCommand = defineCommand({
  summary:
    "put a finished run's restore point back (database and files) and the version that ran before it, as a run of its own: backed up first, rolled back on failure, resumable",
  details: [
    "The restore run is the upgrade flow: preflight, backup and seal of the present state, announce, stop; then upgradePackage reinstalls the version that ran before the restored run (package.downgrade), migrate puts its restore point back, verify proves the database and the files equal to it; start, health. A failure after the stop rolls back to the present state.",
    "Refused, with nothing changed, for a run of another target or an unknown one (E_NOT_FOUND), an unfinished run (E_UNFINISHED), a run without a restore point or whose backups were pruned (E_NOT_FOUND), and a restore point that fails its sha256 (E_RESTORE).",
  ],
  flags: {
    run: {
      type: "string",
      value: "ID",
      required: true,
      help: "the finished run whose restore point to put back (see `upgrade-machine backups`)",
    },
    ...INSPECT_FLAGS,
  },
  run: (args, io) => drive(args, io, (options) => restore(args.config, { ...options, runId: args.run })),
});

/** `upgrade-machine abandon`. */
export const abandonCommand = defineCommand({
  summary: "end an unfinished run that must not be resumed; prints where the target was left and the commands to finish by hand",
  details: ["Refused while a process drives the target (E_BUSY) and for a run that already ended (E_USAGE)."],
  flags: {
    run: {
      type: "string",
      value: "ID",
      required: true,
      help: "the unfinished run (see `upgrade-machine status` or `upgrade-machine history`)",
    },
    reason: {
      type: "string",
      value: "TEXT",
      required: true,
      help: 'why, kept in the journal (e.g. "finished by hand after a disk failure")',
    },
  },
  async run(args, io) {
    if (!args.reason.trim())
      throw new UpgradeError("E_USAGE", "abandon needs --reason TEXT", {
        hint: 'say why, e.g. --reason "finished by hand after a disk failure": it is kept in the journal',
      });
    const r = await abandon(args.config, { cwd: io.cwd, runId: args.run, reason: args.reason });
    if (args.json) io.stdout.write(`${JSON.stringify(r)}\n`);
    else io.stdout.write(`run ${r.runId}: abandoned\n${r.report.map((l) => `  ${l}\n`).join("")}`);
    return EXIT.ok;
  },
});
