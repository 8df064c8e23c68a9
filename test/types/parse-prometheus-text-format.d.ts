// The package ships no types: what test/metrics.test.ts reads of its output.
declare module "parse-prometheus-text-format" {
  interface ParsedMetric {
    value: string;
    labels?: Record<string, string>;
  }
  interface ParsedFamily {
    name: string;
    help: string;
    type: string;
    metrics: ParsedMetric[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
