// Helpers of the restore and prune tests: a run's id and seal from the real CLI, and the
// present state of the example (database fingerprint, config file, version served).
import Database from "better-sqlite3";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listRuns } from "../../src/api.js";
import { runCli, type Example } from "./example.js";

/** The latest run's id, from `status --json`. */
export async function latestRunId(config: string): Promise<string> {
  const s = await runCli(["status", "--config", config, "--json"]);
  return JSON.parse(s.stdout).runId as string;
}

/** The events of one run, from `history --run ID --json`. */
export async function eventsOf(config: string, runId: string): Promise<{ type: string; step: string | null; payload: any }[]> {
  const r = await runCli(["history", "--config", config, "--run", runId, "--json"]);
  return r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** A run's seal output (its restore point), from its journal. */
export async function sealOf(config: string, runId: string): Promise<any> {
  const seal = (await eventsOf(config, runId)).find((e) => e.type === "step.succeeded" && e.step === "seal");
  if (!seal) throw new Error(`run ${runId} has no seal`);
  return seal.payload.output;
}

/** Every run id of the config's target, newest first. */
export async function runIds(config: string): Promise<string[]> {
  return (await listRuns(config)).map((r) => r.runId);
}

/** What the example looks like now: the database's fingerprint, the config file, the version served. */
export async function stateOf(ex: Example): Promise<{ fingerprint: string; config: string; serving: string | null }> {
  return {
    fingerprint: await ex.fingerprint(),
    config: readFileSync(join(ex.dir, "blog.config.json"), "utf8"),
    serving: (await ex.health())?.version ?? null,
  };
}

/** Changes the present after an upgrade: a row written to the database, the config file edited. */
export function changePresent(ex: Example, tag: string): void {
  const db = new Database(ex.db);
  try {
    db.prepare("INSERT INTO authors (name, email) VALUES (?, ?)").run(`late ${tag}`, `${tag}@example.org`);
  } finally {
    db.close();
  }
  writeFileSync(join(ex.dir, "blog.config.json"), `{"title":"edited ${tag}"}\n`);
}

/**
 * The example's service.start with a settle window longer than ctl.sh's start takes on a loaded
 * machine: ctl.sh returns once the server listens, and a start command still running after the
 * window would be taken for the service itself (see README, service.start).
 */
export function patientStart(ex: Example): void {
  const c = JSON.parse(readFileSync(ex.config, "utf8"));
  c.service.start.settleSeconds = 20;
  writeFileSync(ex.config, JSON.stringify(c, null, 2));
}

/** The bytes of the files under `path` (0 when it does not exist), counted here, apart from the code under test. */
export function bytesUnder(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

/** `backups prune` through the real CLI with --json: what it pruned and kept, and the bytes it says it freed. */
export async function prune(
  config: string,
  ...flags: string[]
): Promise<{ code: number | null; pruned: Record<string, number>; kept: Record<string, string>; freed: number | null; stderr: string }> {
  const r = await runCli(["backups", "prune", "--config", config, "--json", ...flags]);
  const lines = r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return {
    code: r.code,
    pruned: Object.fromEntries(lines.filter((l) => l.type === "pruned").map((l) => [l.runId, l.bytes])),
    kept: Object.fromEntries(lines.filter((l) => l.type === "kept").map((l) => [l.runId, l.why])),
    freed: lines.find((l) => l.type === "freed")?.bytes ?? null,
    stderr:
      r.stderr +
      lines
        .filter((l) => l.type === "error")
        .map((l) => `${l.code}: ${l.message}`)
        .join("\n"),
  };
}
