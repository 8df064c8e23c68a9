/** One sample of a metric: its labels (in the order given) and its value. */
export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family as the Prometheus text format (0.0.4) writes it: `# HELP`, `# TYPE`, samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: "gauge" | "counter" | "untyped";
  samples: readonly Sample[];
}

/** A label value with `\`, `"` and line feeds escaped, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text: only `\` and line feeds are escaped there. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function formatSample(name: string, sample: Sample): string {
  const labels = Object.entries(sample.labels ?? {});
  const inner = labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",");
  return `${name}${labels.length ? `{${inner}}` : ""} ${formatValue(sample.value)}\n`;
}

/** The families in the Prometheus text exposition format, each with its `# HELP` and `# TYPE` lines. */
export function formatMetrics(families: readonly MetricFamily[]): string {
  return families
    .map(
      (f) =>
        `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n${f.samples.map((s) => formatSample(f.name, s)).join("")}`,
    )
    .join("");
}
