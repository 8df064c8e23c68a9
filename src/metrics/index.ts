export { writeRunMetrics } from "./write-run-metrics.js";
export { runMetrics, type RunMetricsInput } from "./run-metrics.js";
export { formatMetrics, escapeLabelValue, type MetricFamily, type Sample } from "./text-format.js";
export { checkMetricsFile, writeTextfileAtomically } from "./textfile.js";
