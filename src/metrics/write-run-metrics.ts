import { resolve } from "node:path";
import { listBackups } from "../api.js";
import type { RunResult } from "../runner/result.js";
import { resolveInput, type ConfigInput } from "../session.js";
import { runMetrics } from "./run-metrics.js";
import { formatMetrics } from "./text-format.js";
import { writeTextfileAtomically } from "./textfile.js";

/**
 * Writes the metrics of a run that ended (or stopped) with `result` to `file`, atomically, in the
 * Prometheus text format (node_exporter's textfile collector): run info, downtime, step
 * durations, when it ended and the size of its backups. Any command that drives a run (run,
 * resume, restore...) calls it with the run's result, whatever state it ended in.
 */
export async function writeRunMetrics(file: string, config: ConfigInput, result: RunResult, options: { cwd?: string } = {}): Promise<void> {
  const cwd = options.cwd ?? process.cwd();
  const resolved = await resolveInput(config, cwd);
  const backups = await listBackups(resolved, { cwd });
  const backupBytes = backups.filter((b) => b.runId === result.runId).reduce((sum, b) => sum + (b.bytes ?? 0), 0);
  await writeTextfileAtomically(resolve(cwd, file), formatMetrics(runMetrics({ name: resolved.name, result, backupBytes })));
}
