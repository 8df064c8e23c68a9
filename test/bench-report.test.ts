// The benchmark's pure parts (scripts/bench/): summaries, ratios and goals, the downtime derived
// from the journal's events, and the README table rendered from a report. No timing here.
import { describe, expect, it } from "vitest";
import { downtimeOf } from "../scripts/bench/downtime.js";
import {
  type BenchReport,
  makeRow,
  mergeRows,
  renderMarkdown,
  replaceBetweenMarkers,
  README_END,
  README_START,
} from "../scripts/bench/report.js";
import { goalMet, percentile, summarize } from "../scripts/bench/stats.js";

describe("the benchmark's statistics", () => {
  it("summarises runs as median, min and max, whatever their order", () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, values: [3, 1, 2] });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
    expect(() => summarize([])).toThrow();
    expect(() => summarize([1, Number.NaN])).toThrow();
  });

  it("takes percentiles by nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });

  it("judges ratio goals on the medians, value goals on ours, `<` strictly", () => {
    const row = makeRow({
      section: "s",
      measure: "m",
      unit: "s",
      ours: [1, 2, 30],
      baseline: { label: "b", values: [10, 4, 8] },
      goal: { on: "ratio", op: "<=", limit: 0.25 },
    });
    expect(row.ratio).toBe(0.25);
    expect(row.met).toBe(true);
    expect(row.goalText).toBe("≤ 0.25×");
    expect(
      makeRow({
        section: "s",
        measure: "m",
        unit: "s",
        ours: [3],
        baseline: { label: "b", values: [10] },
        goal: { on: "ratio", op: "<=", limit: 0.25 },
      }).met,
    ).toBe(false);
    const rss = (mb: number) => makeRow({ section: "s", measure: "m", unit: "MB", ours: [mb], goal: { on: "value", op: "<", limit: 200 } });
    expect(rss(199).met).toBe(true);
    expect(rss(200).met).toBe(false);
    expect(rss(1).goalText).toBe("< 200 MB");
    expect(makeRow({ section: "s", measure: "m", unit: "s", ours: [1] }).met).toBeNull();
    expect(goalMet({ on: "ratio", op: "<=", limit: 1 }, summarize([1]), null)).toBeNull();
  });
});

describe("the downtime the bench reads", () => {
  const result = (state: string, down: boolean) =>
    JSON.stringify({
      type: "result",
      state,
      downtime: { seconds: 10, steps: { stop: 1, seal: 3, migrate: 3, start: 1, health: 2 }, down },
    });
  it("is the run result's own `downtime` (the last line of run --json), each step of the window listed, 0 for one that did not run", () => {
    const out = `${JSON.stringify({ type: "step.started", step: "stop" })}\n${result("completed", false)}\n`;
    expect(downtimeOf(out)).toEqual({
      total: 10,
      steps: { stop: 1, seal: 3, upgradePackage: 0, migrate: 3, verify: 0, start: 1, health: 2 },
    });
  });
  it("refuses a run that did not complete or left the service down", () => {
    expect(() => downtimeOf(result("rolledBack", false))).toThrow(/did not complete/);
    expect(() => downtimeOf(result("completed", true))).toThrow(/did not complete/);
    expect(() => downtimeOf(JSON.stringify({ type: "step.started" }))).toThrow(/did not complete/);
  });
});

describe("the README's benchmark table", () => {
  const report: BenchReport = {
    generatedAt: "2026-12-01T18:00:00.000Z",
    context: {},
    rows: [
      makeRow({
        section: "SQLite 1011 MB",
        measure: "downtime",
        unit: "s",
        ours: [2, 1.5, 2.5],
        baseline: { label: "by hand", values: [6, 5, 7] },
        goal: { on: "ratio", op: "<=", limit: 0.35 },
        note: "stop 0.1 | seal 0.05",
      }),
      makeRow({ section: "journal", measure: "replay", unit: "ms", ours: [120], goal: { on: "value", op: "<=", limit: 100 } }),
    ],
  };

  it("renders every row with median, min–max, ratio, goal and whether it is met", () => {
    const lines = renderMarkdown(report).split("\n");
    expect(lines[0]).toBe("| measure | ours (median, min–max) | baseline | ratio | goal | met | note |");
    expect(lines[2]).toBe(
      "| SQLite 1011 MB: downtime | 2.00 s (1.50–2.50) | by hand: 6.00 s (5.00–7.00) | 0.33× | ≤ 0.35× | yes | stop 0.1 \\| seal 0.05 |",
    );
    expect(lines[3]).toBe("| journal: replay | 120 ms | – | – | ≤ 100 ms | no |  |");
    expect(lines).toHaveLength(4);
  });

  it("replaces only what lies between the markers, and refuses a README without them", () => {
    const readme = `# x\n\n${README_START}\nold table\n${README_END}\n\nafter\n`;
    expect(replaceBetweenMarkers(readme, "new")).toBe(`# x\n\n${README_START}\nnew\n${README_END}\n\nafter\n`);
    expect(() => replaceBetweenMarkers("# no markers\n", "new")).toThrow(/markers/);
  });

  it("merges reports: a later report's row replaces the same section and measure in its place, new rows follow", () => {
    const later: BenchReport = {
      generatedAt: "2026-12-02T02:00:00.000Z",
      context: {},
      rows: [
        makeRow({ section: "journal", measure: "replay", unit: "ms", ours: [60], goal: { on: "value", op: "<=", limit: 100 } }),
        makeRow({ section: "journal", measure: "view", unit: "ms", ours: [261] }),
      ],
    };
    const rows = mergeRows([report, later]);
    expect(rows.map((r) => [r.section, r.measure, r.ours.median])).toEqual([
      ["SQLite 1011 MB", "downtime", 2],
      ["journal", "replay", 60],
      ["journal", "view", 261],
    ]);
    expect(rows[1]!.met).toBe(true);
  });
});
