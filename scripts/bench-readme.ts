// `npm run bench:readme [-- a.json b.json ...]`: the README's benchmark table, regenerated from
// bench-results/bench.json (or the reports given, their rows in that order; a later report's row
// replaces an earlier one's of the same section and measure) between the markers of the
// Benchmarks section.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./bench/proc.js";
import { type BenchReport, mergeRows, readReport, renderMarkdown, replaceBetweenMarkers } from "./bench/report.js";

interface Context {
  commit?: string;
  cpus?: number;
  runs?: number;
  rssRuns?: number;
  only?: string;
  loadAverage?: Record<string, number>;
  errors?: string[];
}

const files = process.argv.length > 2 ? process.argv.slice(2) : [join(ROOT, "bench-results", "bench.json")];
const reports = files.map(readReport);
const readme = join(ROOT, "README.md");
const where = (r: BenchReport): string => {
  const c = r.context as Context;
  return `Measured ${r.generatedAt.slice(0, 16).replace("T", " ")} UTC at ${c.commit ?? "?"}, ${c.cpus ?? "?"} cores, median of ${c.runs ?? "?"} runs (min–max)${c.rssRuns !== undefined && c.rssRuns !== c.runs ? ` (peak RSS: ${c.rssRuns} run${c.rssRuns === 1 ? "" : "s"})` : ""}${c.only ? `, sections ${c.only}` : ""}, load average ${Object.values(c.loadAverage ?? {}).join(" / ")} (start / after each section).`;
};
const merged: BenchReport = { generatedAt: reports[0]!.generatedAt, context: {}, rows: mergeRows(reports) };
const errors = reports.flatMap((r) => (r.context as Context).errors ?? []).map((e) => `\n\nSection failed: ${e}`);
const text = `${reports.map(where).join("\n")}\n\n${renderMarkdown(merged)}${errors.join("")}`;
writeFileSync(readme, replaceBetweenMarkers(readFileSync(readme, "utf8"), text));
console.log(`README.md: ${merged.rows.length} rows from ${files.join(", ")}`);
