// Three worker processes (the real CLI) on one rollout, the journal on the local PostgreSQL,
// workers SIGKILLed at random points and replaced (one kill per 12 targets): every target ends completed, each
// with exactly one run (the dead worker's run resumed, never started over), and the rollout
// journal proves that no two workers held a target at once. 12 targets in CI; set
// UM_TEST_FLEET_TARGETS=50 for the issue's size.
import type { ChildProcess } from "node:child_process";
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

const TARGETS = Number(process.env.UM_TEST_FLEET_TARGETS ?? 12);
/** Workers killed (and replaced) during the rollout: one in CI, four at 50 targets. */
const KILLS = Math.max(1, Math.round(TARGETS / 12));
let dir: string;
let journal: Awaited<ReturnType<typeof journalDatabase>>;
const children: ChildProcess[] = [];

const worker = (args: string[]) => cliWorker(children, args);

interface Ev {
  seq: number;
  type: string;
  target: string | null;
  payload: Record<string, unknown>;
}

beforeAll(async () => {
  dir = tempDir("workers");
  journal = await journalDatabase("workers");
  const template = await blogTemplate(dir, 4665);
  for (let i = 0; i < TARGETS; i++) serviceLessTarget(template, join(dir, "fleet", "hubs", `h${String(i).padStart(2, "0")}`));
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await journal?.drop();
  if (dir) removeDir(dir);
});

describe("fleet: several workers, some killed", () => {
  it(
    "every target completed once, a dead worker's targets resumed after their claims expired, never two holders at once",
    async () => {
      const file = writeFleet(join(dir, "fleet"), {
        name: "hubs",
        journal: journal.url,
        targets: ["./hubs/*/upgrade.json"],
        waves: [{ size: 1 }, { percent: 25 }, { rest: true }],
        maxParallel: 4,
        leaseSeconds: 2,
      });
      const a = worker(["fleet", "run", "--fleet", file, "--to", "2.0.0"]);
      await until("the rollout", async () => (await journal.sql`SELECT 1 FROM upgrade_machine_rollouts`.catch(() => [])).length > 0);
      // Two `fleet work` workers beside `fleet run`; KILLS times, one of them (alternating) is SIGKILLed at a
      // random point after it claimed a target, and a new `fleet work` takes its place.
      const pool = [worker(["fleet", "work", "--fleet", file]), worker(["fleet", "work", "--fleet", file])];
      const killed: string[] = [];
      for (let k = 0; k < KILLS; k++) {
        const slot = k % 2;
        const victim = pool[slot]!;
        const tag = `:${victim.child.pid}:`;
        // The others may keep every slot (under load, or a rollout faster than the workers' start): after 5 s
        // without a claim the victim is killed idle, and no takeover from it is expected. On a fast machine the
        // rollout may even end first: nothing is left to kill.
        await until(
          "the victim's claim",
          async () => {
            const rows =
              await journal.sql`SELECT 1 FROM upgrade_machine_rollout_events WHERE type = 'target.started' AND payload LIKE ${`%${tag}%`}`;
            return rows.length > 0;
          },
          5_000,
        ).catch(() => undefined);
        if (a.child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1500)));
        victim.child.kill("SIGKILL");
        // Killed (null), or, when the rollout ended before the kill, ended by itself (0 or 2): whether the kill lands is
        // the scheduler's doing; the journal's checks below hold either way.
        expect([null, 0, 2], victim.out()).toContain(await victim.exit);
        killed.push(tag);
        pool[slot] = worker(["fleet", "work", "--fleet", file]);
      }
      const codes = await Promise.all([a.exit, ...pool.map((w) => w.exit)]);
      expect(codes[0], a.out()).toBe(0);
      // A worker joined an unfinished rollout, or found it ended already (E_NOT_FOUND, exit 2).
      for (const [i, w] of pool.entries()) expect([0, 2], w.out()).toContain(codes[i + 1]);

      const events = (await journal.sql<Ev[]>`SELECT seq, type, target, payload FROM upgrade_machine_rollout_events ORDER BY seq`).map(
        (e) => ({
          ...e,
          payload: JSON.parse(e.payload as unknown as string),
        }),
      );
      expect(events.at(-1)?.type).toBe("target.ended");
      // Never two holders: per target, each start after the first (without an end between) took over an expired claim.
      const holder = new Map<string, { worker: string; ended: boolean }>();
      let takeovers = 0;
      for (const e of events.filter((x) => x.target)) {
        const t = e.target!;
        const h = holder.get(t);
        if (e.type === "target.started") {
          if (h && !h.ended) {
            takeovers++;
            expect(e.payload.previousWorker).toBe(h.worker);
            expect(Number(e.payload.claimedAt)).toBeGreaterThan(Number(e.payload.previousExpiresAt));
          } else expect(h).toBeUndefined();
          holder.set(t, { worker: String(e.payload.worker), ended: false });
        } else if (e.type === "target.ended") {
          expect(h?.ended).toBe(false);
          expect(e.payload.worker).toBe(h?.worker);
          expect(e.payload.state).toBe("completed");
          holder.set(t, { ...h!, ended: true });
        }
      }
      expect(holder.size).toBe(TARGETS);
      // Each target a killed worker left unfinished was taken from it exactly once (a target given back, E_BUSY, is
      // taken again from its giver).
      for (const tag of killed) {
        const by = (type: string) =>
          new Set(events.filter((e) => e.type === type && String(e.payload.worker).includes(tag)).map((e) => e.target));
        const ended = by("target.ended");
        const unfinished = [...by("target.started")].filter((t) => !ended.has(t));
        const fromIt = events.filter(
          (e) =>
            e.type === "target.started" && String(e.payload.previousWorker ?? "").includes(tag) && !String(e.payload.worker).includes(tag),
        );
        expect(fromIt.map((e) => e.target).sort()).toEqual(unfinished.sort());
      }
      // Exactly one run per target in the shared journal, and it completed.
      const runs = await journal.sql<{ target: string; runs: number; completed: number }[]>`
      SELECT r.target, count(DISTINCT r.run_id)::int AS runs, count(e.run_id)::int AS completed
      FROM upgrade_machine_runs r LEFT JOIN upgrade_machine_events e ON e.run_id = r.run_id AND e.type = 'run.completed'
      GROUP BY r.target`;
      expect(runs.length).toBe(TARGETS);
      for (const r of runs) expect([r.runs, r.completed]).toEqual([1, 1]);
      for (let i = 0; i < TARGETS; i++) expect(versionOf(join(dir, "fleet", "hubs", `h${String(i).padStart(2, "0")}`))).toBe("2.0.0");
      // At most maxParallel claims at once: replaying starts and ends never counts more than 4 held.
      let held = 0;
      let peak = 0;
      for (const e of events) {
        if (e.type === "target.started" && !e.payload.previousWorker) held++;
        if (e.type === "target.ended") held--;
        peak = Math.max(peak, held);
      }
      expect(peak).toBeLessThanOrEqual(4);
      console.log(
        `fleet workers: ${TARGETS} targets, ${killed.length} workers killed, ${takeovers} targets taken over, peak ${peak} running`,
      );
    },
    120_000 + TARGETS * 20_000,
  );
});
