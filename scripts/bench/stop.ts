/**
 * What the stop step costs beyond the stop command itself, against a real HTTP service that
 * exits the moment it gets SIGTERM (or after a graceful shutdown of `shutdownMs`): each round is a whole upgrade() of a tiny SQLite service
 * whose stop is `kill <pid>`; the overhead is the stop step's duration (its journal events)
 * minus the stop command's own duration (its output). The first round stops a service this
 * tool did not start (no pid known); the next ones stop the one the previous run started
 * (its pid recorded). Run alone: `node --import jiti/register scripts/bench/stop.ts [rounds] [port]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { upgrade } from "../../src/api.js";
import { openJournal } from "../../src/journal/open.js";

const SERVICE = `import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
writeFileSync(process.env.PID_FILE, String(process.pid));
const server = createServer((req, res) => res.end(JSON.stringify({ pid: process.pid }))).listen(Number(process.env.PORT), "127.0.0.1");
// a graceful shutdown of SHUTDOWN_MS: still serving, then the listener closed and the process gone
process.on("SIGTERM", () => setTimeout(() => { server.close(); process.exit(0); }, Number(process.env.SHUTDOWN_MS ?? 0)));
`;

/** One stop's figures, in milliseconds. */
export interface StopCost {
  /** Whether the stop knew the service's pid (recorded by the run that started it). */
  pidKnown: boolean;
  stepMs: number;
  commandMs: number;
  overheadMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `rounds` upgrades of a service that stops at once; the stop step's cost of each. */
export async function stopOverhead(
  options: { rounds?: number; port?: number; dir?: string; shutdownMs?: number } = {},
): Promise<StopCost[]> {
  const port = options.port ?? 4551;
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), "um-bench-stop-"));
  const pidFile = join(dir, "service.pid");
  const env = { PORT: String(port), PID_FILE: pidFile, SHUTDOWN_MS: String(options.shutdownMs ?? 0) };
  try {
    writeFileSync(join(dir, "service.mjs"), SERVICE);
    const Database = createRequire(import.meta.url)("better-sqlite3");
    const db = new Database(join(dir, "app.sqlite"));
    db.exec("CREATE TABLE t (id integer primary key, v text); INSERT INTO t (v) VALUES ('a');");
    db.close();
    writeFileSync(
      join(dir, "upgrade.json"),
      JSON.stringify({
        name: "stop-bench",
        database: "sqlite:./app.sqlite",
        service: {
          stop: { command: ["sh", "-c", `kill $(cat ${pidFile})`] },
          start: { command: [process.execPath, join(dir, "service.mjs")], env, settleSeconds: 0.2 },
          health: { url: `http://127.0.0.1:${port}/health`, timeoutSeconds: 10 },
        },
      }),
    );
    const first = spawn(process.execPath, [join(dir, "service.mjs")], { env: { ...process.env, ...env }, detached: true, stdio: "ignore" });
    first.unref();
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/health`).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(50);
    }
    const out: StopCost[] = [];
    for (let r = 0; r < (options.rounds ?? 6); r++) {
      const result = await upgrade(join(dir, "upgrade.json"));
      if (result.state !== "completed") throw new Error(`round ${r}: the run ended ${result.state}`);
      const store = await openJournal(`sqlite:${join(dir, ".upgrade", "journal.sqlite")}`, dir);
      try {
        const events = await store.read(result.runId);
        const started = events.find((e) => e.type === "step.started" && e.step === "stop")!;
        const done = events.find((e) => e.type === "step.succeeded" && e.step === "stop")!;
        const output = done.payload.output as { stop: { durationMs: number } };
        const stepMs = Date.parse(done.at) - Date.parse(started.at);
        out.push({ pidKnown: r > 0, stepMs, commandMs: output.stop.durationMs, overheadMs: stepMs - output.stop.durationMs });
      } finally {
        await store.close();
      }
    }
    return out;
  } finally {
    spawn("sh", ["-c", `kill $(cat ${pidFile}) 2>/dev/null`], { stdio: "ignore" });
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [rounds, port, shutdownMs] = [Number(process.argv[2] ?? 6), Number(process.argv[3] ?? 4551), Number(process.argv[4] ?? 0)];
  const costs = await stopOverhead({ rounds, port, shutdownMs });
  for (const c of costs) console.log(JSON.stringify(c));
  const known = costs
    .filter((c) => c.pidKnown)
    .map((c) => c.overheadMs)
    .sort((a, b) => a - b);
  console.log(
    `shutdown ${shutdownMs} ms: overhead median ${known[Math.floor(known.length / 2)]} ms (pid known), ${costs[0]!.overheadMs} ms (pid unknown)`,
  );
}
