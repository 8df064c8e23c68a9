// `npm run bench:readme`: the README's benchmark table, regenerated from bench-results/bench.json
// (or the file given) between the markers of the Benchmarks section.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./bench/proc.js";
import { readReport, renderMarkdown, replaceBetweenMarkers } from "./bench/report.js";

const json = process.argv[2] ?? join(ROOT, "bench-results", "bench.json");
const readme = join(ROOT, "README.md");
const report = readReport(json);
const c = report.context as { commit?: string; cpus?: number; runs?: number; loadAverage?: Record<string, number>; errors?: string[] };
const where = `Measured ${report.generatedAt.slice(0, 16).replace("T", " ")} UTC at ${c.commit ?? "?"}, ${c.cpus ?? "?"} cores, median of ${c.runs ?? "?"} runs (min–max), load average ${Object.values(c.loadAverage ?? {}).join(" / ")} (start / after each section).`;
writeFileSync(
  readme,
  replaceBetweenMarkers(
    readFileSync(readme, "utf8"),
    `${where}\n\n${renderMarkdown(report)}${(c.errors ?? []).map((e) => `\n\nSection failed: ${e}`).join("")}`,
  ),
);
console.log(`README.md: ${report.rows.length} rows from ${json}`);
