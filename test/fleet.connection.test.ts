// A worker that loses its connection to the journal: the real CLI reaches the local PostgreSQL
// through a TCP proxy in this process, which the test cuts (every socket destroyed, no new one
// accepted) while the target's package switch runs (a command that writes a heartbeat every
// 100 ms). The worker must stop that command before its claim and its lease expire by the
// journal's clock, journal nothing more, and let a second worker, connected directly, resume the
// run after expiry: one run, resumed, never started twice, never two holders at once. Then the
// worker either finds the journal again and goes on, or gives up after `reconnectSeconds`.
import type { ChildProcess } from "node:child_process";
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type Server, type Socket, connect, createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blogTemplate,
  cliWorker,
  journalDatabase,
  removeDir,
  serviceLessTarget,
  tempDir,
  until,
  versionOf,
  writeFleet,
} from "./helpers/fleet.js";

const LEASE_S = 3;
let dir: string;
let template: string;
let journal: Awaited<ReturnType<typeof journalDatabase>>;
const children: ChildProcess[] = [];
const proxies: Proxy[] = [];

/** A TCP proxy to the local PostgreSQL that the test can cut and open again. */
interface Proxy {
  cut(): Promise<void>;
  open(): Promise<void>;
}

function proxy(port: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(5432, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const p: Proxy = {
    async cut() {
      const s = server;
      server = null;
      const closed = s ? new Promise((r) => s.close(r)) : null;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
    open: listen,
  };
  proxies.push(p);
  return listen().then(() => p);
}

const worker = (args: string[]) => cliWorker(children, args);

/** A target whose package switch writes a heartbeat every 100 ms while `slow.flag` exists (30 s at most), then installs and writes `marker`. */
function slowTarget(name: string): string {
  const home = join(dir, "fleet", name, "hubs", "h0");
  const file = serviceLessTarget(template, home);
  const script = join(home, "slow-install.sh");
  writeFileSync(
    script,
    [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      "echo $$ > step.pid",
      "n=0",
      'while [ -f slow.flag ] && [ "$n" -lt 300 ]; do date +%s%3N >> heartbeat; sleep 0.1; n=$((n+1)); done',
      './ctl.sh install "$1"',
      "echo $$ >> marker",
      "",
    ].join("\n"),
  );
  chmodSync(script, 0o755);
  writeFileSync(join(home, "slow.flag"), "");
  const c = JSON.parse(readFileSync(file, "utf8"));
  c.package.upgrade = { command: ["./slow-install.sh", "{toVersion}"] };
  writeFileSync(file, JSON.stringify(c, null, 2));
  return home;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const dbNow = async () => Number((await journal.sql`SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now`)[0]!.now);

interface Ev {
  seq: number;
  type: string;
  target: string | null;
  payload: Record<string, unknown>;
}
const rolloutEvents = async (fleet: string): Promise<Ev[]> =>
  (
    await journal.sql<Ev[]>`SELECT e.seq, e.type, e.target, e.payload FROM upgrade_machine_rollout_events e
      JOIN upgrade_machine_rollouts r USING (rollout_id) WHERE r.fleet = ${fleet} ORDER BY e.seq`
  ).map((e) => ({ ...e, payload: JSON.parse(e.payload as unknown as string) }));
const runEvents = async (runId: string) =>
  journal.sql<{ seq: number; type: string; step: string | null; payload: string }[]>`
    SELECT seq, type, step, payload FROM upgrade_machine_events WHERE run_id = ${runId} ORDER BY seq`;

/**
 * Starts worker A through a proxy on `port`, waits until the package switch beats, cuts the proxy
 * and checks that the step stopped before the claim and the lease expire (journal clock) and that
 * nothing more was journaled. Returns what the rest of the test needs.
 */
async function cutMidStep(name: string, port: number, reconnectSeconds: number) {
  const home = slowTarget(name);
  const p = await proxy(port);
  const fleet = { name, targets: ["./hubs/*/upgrade.json"], waves: [{ rest: true }], leaseSeconds: LEASE_S, reconnectSeconds };
  const viaProxy = writeFleet(join(dir, "fleet", name), { ...fleet, journal: journal.url.replace(":5432/", `:${port}/`) });
  const direct = writeFleet(join(dir, "fleet", name), { ...fleet, journal: journal.url }, "direct.json");
  const a = worker(["fleet", "run", "--fleet", viaProxy, "--to", "2.0.0"]);
  const beats = join(home, "heartbeat");
  await until("the package switch's heartbeat", () => existsSync(beats) && readFileSync(beats, "utf8").split("\n").length > 3);
  const pid = Number(readFileSync(join(home, "step.pid"), "utf8"));
  const [row] = await journal.sql<{ run_id: string; target: string }[]>`
    SELECT run_id, target FROM upgrade_machine_runs WHERE target LIKE ${`%/${name}/%`}`;
  const { run_id: runId, target } = row!;
  await p.cut();
  const cutAt = await dbNow();
  const before = { rollout: (await rolloutEvents(name)).length, run: (await runEvents(runId)).length };
  await until("the step's process to end", () => !alive(pid), LEASE_S * 1000 + 5_000);
  const stoppedAt = await dbNow();
  const [claim] = await journal.sql<{ worker: string; expires_at: string }[]>`
    SELECT c.worker, c.expires_at FROM upgrade_machine_fleet_claims c JOIN upgrade_machine_rollouts r USING (rollout_id) WHERE r.fleet = ${name}`;
  const [lease] = await journal.sql<{ expires_at: string }[]>`SELECT expires_at FROM upgrade_machine_leases WHERE target = ${target}`;
  // Stopped before the claim and the lease expire, by the journal's clock.
  expect(stoppedAt).toBeLessThan(Number(claim!.expires_at));
  expect(stoppedAt).toBeLessThan(Number(lease!.expires_at));
  const size = statSync(beats).size;
  await new Promise((r) => setTimeout(r, 400));
  expect(statSync(beats).size).toBe(size); // no beat after the stop
  expect(existsSync(join(home, "marker"))).toBe(false);
  const expiry = Math.max(Number(claim!.expires_at), Number(lease!.expires_at));
  await until("the claim and the lease to expire", async () => (await dbNow()) > expiry, LEASE_S * 1000 + 5_000);
  // Nothing journaled since the cut: the rollout's and the run's heads are where they were.
  expect((await rolloutEvents(name)).length).toBe(before.rollout);
  expect((await runEvents(runId)).length).toBe(before.run);
  console.log(
    `${name}: step stopped ${stoppedAt - cutAt} ms after the cut, ${Number(claim!.expires_at) - stoppedAt} ms before the claim expired`,
  );
  rmSync(join(home, "slow.flag"));
  return { home, a, p, direct, runId, target, claim: claim!, seen: before.rollout };
}

/** The rollout journal and the run journal once B finished: one holder at a time, one run, resumed, completed. */
async function checkTakeover(name: string, home: string, target: string, runId: string, aWorker: string, seen: number) {
  const events = await rolloutEvents(name);
  const starts = events.filter((e) => e.type === "target.started");
  expect(starts.length).toBe(2);
  expect(starts[0]!.payload.worker).toBe(aWorker);
  expect(starts[1]!.payload.previousWorker).toBe(aWorker);
  expect(Number(starts[1]!.payload.claimedAt)).toBeGreaterThan(Number(starts[1]!.payload.previousExpiresAt));
  const ends = events.filter((e) => e.type === "target.ended");
  expect(ends.map((e) => [e.payload.worker, e.payload.state])).toEqual([[starts[1]!.payload.worker, "completed"]]);
  // Nothing of A's after the cut.
  expect(events.slice(seen).filter((e) => e.payload.worker === aWorker)).toEqual([]);
  const runs = await journal.sql`SELECT run_id FROM upgrade_machine_runs WHERE target = ${target}`;
  expect(runs.map((r) => r.run_id)).toEqual([runId]);
  const run = await runEvents(runId);
  const switches = run.filter((e) => e.step === "upgradePackage");
  // Started by A, interrupted without a word, started again by B and succeeded: no failure, no rollback.
  expect(switches.map((e) => e.type)).toEqual(["step.started", "step.started", "step.succeeded"]);
  expect(run.filter((e) => e.type === "step.failed")).toEqual([]);
  expect(run.at(-1)?.type).toBe("run.completed");
  expect(readFileSync(join(home, "marker"), "utf8").trim().split("\n").length).toBe(1);
  expect(versionOf(home)).toBe("2.0.0");
}

beforeAll(async () => {
  dir = tempDir("conn");
  journal = await journalDatabase("conn");
  template = await blogTemplate(dir, 4819);
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const p of proxies) await p.cut();
  await journal?.drop();
  if (dir) removeDir(dir);
});

describe("fleet: a worker losing its connection to the journal", () => {
  it("stops its step before its claim expires, journals nothing, and finds the journal again while another worker resumes the run", async () => {
    const { home, a, p, direct, runId, target, claim, seen } = await cutMidStep("conn1", 4800, 60);
    const b = worker(["fleet", "work", "--fleet", direct]);
    await until("B's takeover", async () => (await rolloutEvents("conn1")).filter((e) => e.type === "target.started").length === 2);
    await p.open(); // A finds the journal again: the target is B's, A waits for the rollout to end
    expect(await b.exit, b.out()).toBe(0);
    expect(await a.exit, a.out()).toBe(0);
    expect(a.out()).toMatch(/hubs\/h0: stopped, journaling nothing \(E_BUSY: stopped acting on the (claim on hubs\/h0|lease of sqlite:)/);
    expect(a.out()).toContain("the journal does not answer");
    expect(a.out()).toContain("the journal answers again");
    await checkTakeover("conn1", home, target, runId, claim.worker, seen);
  }, 60_000);

  it("gives up after reconnectSeconds with E_CONNECT (exit 3) and says what to do, its target resumed by another worker", async () => {
    const { home, a, direct, runId, target, claim, seen } = await cutMidStep("conn2", 4801, 2);
    expect(await a.exit, a.out()).toBe(3);
    expect(a.out()).toMatch(/E_CONNECT.*did not answer for 2 s: this worker gives up/);
    expect(a.out()).toContain("fleet work --fleet");
    const b = worker(["fleet", "work", "--fleet", direct]);
    expect(await b.exit, b.out()).toBe(0);
    await checkTakeover("conn2", home, target, runId, claim.worker, seen);
  }, 60_000);
});
