import type { JournalEvent } from "../journal/types.js";
import { eventRows } from "../view/run-view.js";

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : /^(SEQ|DURATION)$/.test(header[i] ?? "") ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      )
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `${l}\n`).join("");
}

/** `2025-01-31 12:00:03.120`: the journal's UTC time, readable. */
export function formatTime(iso: string): string {
  return iso.replace("T", " ").replace(/Z$/, "");
}

/** A duration for a table cell: `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")} s`;
}

function resultOf(e: JournalEvent): string {
  switch (e.type) {
    case "run.requested":
      return typeof e.payload.toVersion === "string" ? `requested (to ${e.payload.toVersion})` : "requested";
    case "step.started":
      return `started (attempt ${String(e.payload.attempt ?? 1)})`;
    case "step.succeeded":
      return typeof e.payload.skipped === "string" ? `skipped: ${e.payload.skipped}` : "succeeded";
    case "step.failed":
      return "failed";
    case "backup.pruned":
      return `${Array.isArray(e.payload.paths) ? e.payload.paths.length : 0} backups deleted (backups prune)`;
    default:
      return e.type.slice("run.".length);
  }
}

function errorOf(e: JournalEvent): string {
  if (e.type === "step.failed") {
    const err = (e.payload.error ?? {}) as { code?: string; message?: string };
    return `${err.code ?? "E_STEP"}: ${err.message ?? ""}`;
  }
  if (e.type === "run.failed" && Array.isArray(e.payload.instructions) && e.payload.instructions.length) {
    return `a person must finish: ${e.payload.instructions.length} instruction(s), see --json`;
  }
  return "";
}

/** One run's events as a table: time (UTC), event, step, duration, result, error. */
export function eventsTable(events: readonly JournalEvent[]): string {
  const rows = eventRows(events);
  return formatTable(
    ["SEQ", "TIME (UTC)", "EVENT", "STEP", "DURATION", "RESULT", "ERROR"],
    events.map((e, i) => [
      String(e.seq),
      formatTime(e.at),
      e.type,
      e.step ?? "",
      formatDuration(rows[i]?.durationMs ?? null),
      resultOf(e),
      errorOf(e),
    ]),
  );
}
