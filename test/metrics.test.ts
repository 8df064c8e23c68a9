import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatMetrics } from "../src/metrics/index.js";
import { addBrokenRelease, prepareExample, runCli, type Example } from "./helpers/example.js";

const NAMES = [
  "upgrade_machine_run_info",
  "upgrade_machine_downtime_seconds",
  "upgrade_machine_step_duration_seconds",
  "upgrade_machine_last_run_timestamp_seconds",
  "upgrade_machine_backup_bytes",
];

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

/** The file parsed by a Prometheus text-format parser, by metric name; every family with HELP and TYPE gauge. */
function parsed(file: string): Map<string, Family> {
  const families = parsePrometheusTextFormat(readFileSync(file, "utf8"));
  for (const f of families) {
    expect(f.help, f.name).not.toBe("");
    expect(f.type, f.name).toBe("GAUGE");
  }
  return new Map(families.map((f) => [f.name, f]));
}

const one = (m: Map<string, Family>, name: string) => Number(m.get(name)!.metrics[0]!.value);
const stepSeconds = (m: Map<string, Family>) =>
  Object.fromEntries(m.get("upgrade_machine_step_duration_seconds")!.metrics.map((s) => [s.labels!.step, Number(s.value)]));

async function history(config: string): Promise<{ type: string; step: string | null; at: string }[]> {
  const r = await runCli(["history", "--config", config, "--json"]);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

/** stop's first start to the end of the step that brought a service back, read from the journal. */
function journalDowntime(events: { type: string; step: string | null; at: string }[], backStep: string): number {
  const stop = events.find((e) => e.type === "step.started" && e.step === "stop")!;
  const back = events.filter((e) => e.type === "step.succeeded" && e.step === backStep).at(-1)!;
  return (Date.parse(back.at) - Date.parse(stop.at)) / 1000;
}

describe("--metrics-file: the Prometheus textfile of a real run of the example, through the CLI", () => {
  let ex: Example;
  let out: string;
  beforeAll(async () => {
    ex = await prepareExample(4581);
    // ctl.sh start daemonises and exits once the server listens, which takes over the default
    // 1 s settle window on a loaded machine: the start would then be taken for the service.
    const config = JSON.parse(readFileSync(ex.config, "utf8"));
    config.service.start.settleSeconds = 20;
    writeFileSync(ex.config, JSON.stringify(config));
    out = mkdtempSync(join(tmpdir(), "um-se-metrics-"));
  });
  afterAll(async () => {
    await ex.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it("a folder that does not exist is refused before anything runs (E_USAGE, no journal event)", async () => {
    const r = await runCli(["run", "--config", ex.config, "--to", "2.0.0", "--metrics-file", join(out, "missing", "um.prom")]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("E_USAGE");
    expect((await runCli(["status", "--config", ex.config, "--json"])).stdout).toContain('"state":"none"');
  });

  it("resume of a run killed in migrate that completes: run info, downtime from the journal, every step's duration, the end and the backups' size", async () => {
    const file = join(out, "upgrade.prom");
    writeFileSync(file, "stale\n");
    const killed = await runCli(["run", "--config", ex.config, "--to", "2.0.0", "--metrics-file", file], {
      UPGRADE_MACHINE_CRASH_AFTER: "step.started:migrate",
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(readFileSync(file, "utf8")).toBe("stale\n");
    const r = await runCli(["resume", "--config", ex.config, "--metrics-file", file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = parsed(file);
    expect([...m.keys()]).toEqual(NAMES);
    expect(m.get("upgrade_machine_run_info")!.metrics).toEqual([
      { value: "1", labels: { name: "blog", from_version: "1.0.0", to_version: "2.0.0", state: "completed" } },
    ]);
    const events = await history(ex.config);
    expect(one(m, "upgrade_machine_downtime_seconds")).toBeCloseTo(journalDowntime(events, "health"), 3);
    expect(one(m, "upgrade_machine_downtime_seconds")).toBeGreaterThan(0);
    const steps = stepSeconds(m);
    expect(Object.keys(steps)).toEqual([
      "preflight",
      "backup",
      "lint",
      "rehearse",
      "announce",
      "grace",
      "stop",
      "seal",
      "upgradePackage",
      "migrate",
      "verify",
      "start",
      "health",
    ]);
    for (const v of Object.values(steps)) expect(v).toBeGreaterThanOrEqual(0);
    const lastAt = Date.parse(events.filter((e) => e.type === "step.succeeded").at(-1)!.at) / 1000;
    expect(one(m, "upgrade_machine_last_run_timestamp_seconds")).toBeCloseTo(lastAt, 3);
    const backups = (await runCli(["backups", "--config", ex.config, "--json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const bytes = backups.reduce((sum: number, b: { bytes: number }) => sum + b.bytes, 0);
    expect(bytes).toBeGreaterThan(0);
    expect(one(m, "upgrade_machine_backup_bytes")).toBe(bytes);
    // Written atomically: the temporary file was renamed, nothing else is left in the folder.
    expect(readdirSync(out)).toEqual(["upgrade.prom"]);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("run that rolls back: the state label says rolledBack, the downtime lasts until the previous version is back", async () => {
    addBrokenRelease(ex);
    const file = join(out, "upgrade.prom");
    const r = await runCli(["run", "--config", ex.config, "--to", "3.0.0", "--metrics-file", file]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const m = parsed(file);
    expect(m.get("upgrade_machine_run_info")!.metrics[0]!.labels).toEqual({
      name: "blog",
      from_version: "2.0.0",
      to_version: "3.0.0",
      state: "rolledBack",
    });
    const events = await history(ex.config);
    expect(one(m, "upgrade_machine_downtime_seconds")).toBeCloseTo(journalDowntime(events, "startPrevious"), 3);
    const steps = stepSeconds(m);
    expect(steps).toHaveProperty("migrate");
    expect(steps).toHaveProperty("restoreDatabase");
    expect(steps).toHaveProperty("verifyRestore");
    expect((await ex.health())?.version).toBe("2.0.0");
  });
});

describe("the text format", () => {
  it("escapes label values (backslash, quote, line feed) so that a parser reads them back unchanged", () => {
    const nasty = 'a\\b "quoted"\nnext line';
    const text = formatMetrics([
      { name: "m", help: "help with \\ and\nline", type: "gauge", samples: [{ labels: { v: nasty }, value: 1.5 }] },
    ]);
    const [family] = parsePrometheusTextFormat(text);
    expect(family!.metrics).toEqual([{ value: "1.5", labels: { v: nasty } }]);
    expect(family!.help).toBe("help with \\ and\nline");
  });
});
