import { history, listRunResults } from "../api.js";
import { defineCommand } from "./define.js";
import { eventsTable, formatDuration, formatTable, formatTime } from "./history-table.js";
import { EXIT, type CliIo } from "./io.js";

/** The runs of the target as a table; a run whose journal cannot be trusted is marked UNTRUSTED (exit 3). */
async function runsTable(config: string, io: CliIo): Promise<number> {
  const runs = await listRunResults(config, { cwd: io.cwd });
  if (!runs.length) {
    io.stdout.write("no run yet\n");
    return EXIT.ok;
  }
  const rows = runs.map(({ runId, createdAt, result: r, durationMs, problem }) => {
    if (!r) return [runId, formatTime(createdAt), "UNTRUSTED", "", "", "", problem ? `${problem.code}: ${problem.message}` : ""];
    const failure = r.rollbackFailure ?? r.failure;
    const error = failure ? `${failure.step}: ${failure.error.code}: ${failure.error.message}` : "";
    return [
      runId,
      formatTime(createdAt),
      r.state,
      r.step ?? "",
      `${r.fromVersion ?? "?"} -> ${r.toVersion ?? "?"}`,
      formatDuration(durationMs),
      error,
    ];
  });
  io.stdout.write(formatTable(["RUN", "STARTED (UTC)", "STATE", "AT STEP", "VERSIONS", "DURATION", "ERROR"], rows));
  const untrusted = runs.find((r) => r.problem)?.problem;
  if (!untrusted) return EXIT.ok;
  io.stderr.write(`upgrade-machine: ${untrusted.code}: ${untrusted.message}${untrusted.hint ? `\n  next: ${untrusted.hint}` : ""}\n`);
  return EXIT.failed;
}

/** `upgrade-machine history`. */
export const historyCommand = defineCommand({
  summary: "a table of the runs of this target, or of one run's events (time, step, duration, result, error)",
  details: ["The hash chain of every run shown is verified: a changed or removed event is E_JOURNAL_TAMPERED (exit 3)."],
  flags: {
    run: { type: "string", value: "ID", help: "one run's events (default: the list of runs; with --json, the latest run's events)" },
  },
  async run(args, io) {
    if (!args.run && !args.json) return runsTable(args.config, io);
    // Opening a run verifies its hash chain: a changed event ends here with E_JOURNAL_TAMPERED.
    const h = await history(args.config, { cwd: io.cwd, ...(args.run ? { runId: args.run } : {}) });
    if (args.json) {
      for (const e of h.events) io.stdout.write(`${JSON.stringify(e)}\n`);
      return EXIT.ok;
    }
    if (!h.runId || !h.result) {
      io.stdout.write("no run yet\n");
      return EXIT.ok;
    }
    const r = h.result;
    io.stdout.write(
      `run ${h.runId}: ${r.state}${r.step && r.state !== "completed" ? ` at ${r.step}` : ""} (${r.fromVersion ?? "?"} -> ${r.toVersion ?? "?"}), ${h.events.length} events, hash chain verified\n`,
    );
    io.stdout.write(eventsTable(h.events));
    return EXIT.ok;
  },
});
