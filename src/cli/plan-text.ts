import type { Plan } from "../api.js";
import { formatBytes } from "./render.js";

/** The lines `plan` prints about the rehearsal, the downtime estimate, the backup's size and the free space. */
export function rehearsalLines(p: Plan): string[] {
  const lines: string[] = [];
  if (p.migrationNote) lines.push(`note: ${p.migrationNote}`);
  const r = p.rehearsal;
  if (r?.outcome === "passed") {
    const what = r.applied.length ? r.applied.join(", ") : "the rehearse command";
    lines.push(
      `rehearsal: passed: ${what} in ${r.seconds.toFixed(2)} s on a copy (${r.copy}, ${formatBytes(r.copyBytes)}, ${r.copySeconds.toFixed(2)} s to copy)`,
    );
  } else if (r?.outcome === "failed") {
    lines.push(`rehearsal: FAILED (${r.error.code}): ${r.error.message}`);
    if (r.error.hint) lines.push(`  next: ${r.error.hint}`);
  } else if (r?.outcome === "skipped") {
    lines.push(`rehearsal: ${r.reason}`);
  }
  const e = p.downtimeEstimate;
  lines.push(
    e
      ? `downtime estimate for the migrations: ${e.migrationSeconds.toFixed(2)} s (${e.source === "rehearsal now" ? "the rehearsal now" : `the last rehearsal, ${e.source}${e.toVersion ? ` to ${e.toVersion}` : ""}`})`
      : "downtime estimate for the migrations: none yet (run `plan --rehearse`, or a run rehearses them)",
  );
  const size = p.backupBytes === null ? "unknown" : formatBytes(p.backupBytes);
  const free = p.freeBytes === null ? "unknown" : formatBytes(p.freeBytes);
  lines.push(`backup size: ${size} (the database); free in the state directory: ${free}`);
  return lines;
}
