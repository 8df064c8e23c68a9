import type { RunnerEvent } from "../runner/runner-events.js";
import type { Downtime } from "../runner/downtime.js";
import type { RunResult } from "../runner/result.js";
import type { Progress } from "../progress.js";
import type { CliIo } from "./io.js";

/** How the CLI shows a run: a live terminal, plain lines, or NDJSON. */
export type OutputMode = "tty" | "plain" | "json";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function progressText(p: Progress): string {
  const total = p.total ?? 0;
  const frac = total > 0 ? Math.min(1, p.done / total) : 0;
  const bar = total > 0 ? `[${"#".repeat(Math.round(frac * 20)).padEnd(20, ".")}] ` : "";
  const what =
    p.unit === "bytes"
      ? `${formatBytes(p.done)}${total ? ` / ${formatBytes(total)}` : ""}`
      : p.unit === "seconds"
        ? `${Math.max(0, total - p.done)} s left`
        : `${p.done}${total ? `/${total}` : ""} ${p.unit}`;
  return `${bar}${what}${p.message ? ` ${p.message}` : ""}`;
}

/** NDJSON with `--json`; else live lines when stderr is a terminal, plain lines otherwise. */
export function outputMode(json: boolean, io: CliIo): OutputMode {
  return json ? "json" : io.stderr.isTTY ? "tty" : "plain";
}

/** A listener that prints runner events in the chosen mode. */
export function renderer(io: CliIo, mode: OutputMode): (event: RunnerEvent) => void {
  let lastPlainProgress = 0;
  let liveLine = false;
  const clear = () => {
    if (liveLine) io.stderr.write("\r\x1b[2K");
    liveLine = false;
  };
  return (event) => {
    if (mode === "json") {
      io.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
      return;
    }
    const out = mode === "tty" ? io.stderr : io.stdout;
    switch (event.type) {
      case "step.started":
        clear();
        out.write(`▶ ${event.step}${event.attempt > 1 ? ` (attempt ${event.attempt}${event.resumed ? ", resumed" : ""})` : ""}\n`);
        break;
      case "step.progress": {
        const text = `  ${event.step}: ${progressText(event.progress)}`;
        if (mode === "tty") {
          io.stderr.write(`\r\x1b[2K${text}`);
          liveLine = true;
        } else if (Date.now() - lastPlainProgress >= 2_000 || event.progress.done === event.progress.total) {
          lastPlainProgress = Date.now();
          out.write(`${text}\n`);
        }
        break;
      }
      case "step.finished": {
        clear();
        const mark = event.outcome === "succeeded" ? "✔" : event.outcome === "skipped" ? "–" : "✘";
        const why =
          event.outcome === "skipped" ? ` skipped: ${event.skipped}` : event.error ? ` ${event.error.code}: ${event.error.message}` : "";
        out.write(`${mark} ${event.step} ${event.outcome} in ${(event.durationMs / 1000).toFixed(1)} s${why}\n`);
        break;
      }
      case "log":
        clear();
        out.write(`  ${event.step}: ${event.message}\n`);
        break;
      case "run.finished":
        clear();
        break;
    }
  };
}

/** The downtime in one line: the total, then each step's share in the order they ran. */
export function downtimeLine(d: Downtime): string {
  if (!d.from) return "downtime 0 s (the service was not stopped)";
  const parts = Object.entries(d.steps).map(([step, s]) => `${step} ${s.toFixed(2)}`);
  return `downtime ${d.seconds.toFixed(2)} s${d.down ? " (still down at the run's last event)" : ""}${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

/** The closing summary of a run. */
export function printResult(io: CliIo, mode: OutputMode, result: RunResult): void {
  if (mode === "json") {
    io.stdout.write(`${JSON.stringify({ type: "result", ...result })}\n`);
    return;
  }
  const lines = [
    `run ${result.runId}: ${result.state}${result.fromVersion || result.toVersion ? ` (${result.fromVersion ?? "?"} -> ${result.toVersion ?? "?"})` : ""}`,
  ];
  if (result.restoreOf) lines.push(`  a restore of run ${result.restoreOf}'s restore point`);
  lines.push(`  ${downtimeLine(result.downtime)}`);
  if (result.failure) lines.push(`  failed at ${result.failure.step}: ${result.failure.error.code} ${result.failure.error.message}`);
  if (result.failure?.error.hint) lines.push(`  next: ${result.failure.error.hint}`);
  if (result.state === "rolledBack") lines.push("  the previous version and the database as at the restore point are back");
  if (result.state === "aborted") lines.push("  nothing was changed");
  for (const line of result.instructions) lines.push(`  ${line}`);
  io.stdout.write(`${lines.join("\n")}\n`);
}
