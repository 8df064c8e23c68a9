import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STEP_NAMES, type StepName } from "../../machines/index.js";
import { resolveConfig } from "../config/resolve.js";
import type { ResolvedConfig } from "../config/types.js";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { latestRun } from "../journal/latest-run.js";
import { openJournal } from "../journal/open.js";
import type { JournalEvent } from "../journal/types.js";
import { foldJournal } from "../runner/fold.js";
import { runResult, type RunResult } from "../runner/result.js";
import { resumeRun, SimulatedCrash, startRun } from "../runner/runner.js";
import type { StepDefinition, StepEffect, StepEffects, StepImplementations } from "../steps/types.js";
import type { FaultSchedule } from "./faults.js";
import { finalBreach, serviceEffect, serviceWorld, type ServiceWorld } from "./service-world.js";

/** The lease's time in simulations: short, so a `renewalFails` fault outlives it quickly. */
const SIMULATED_LEASE_MS = 400;

const TARGET = "simulated-target";
const THIEF = "simulated-other-driver";

/** What a simulated run did: its result, every effect execution, the journal, the crashes. */
export interface SimulatedRun {
  result: RunResult;
  /** Each time a step's effect actually ran (after `step.started`, before a crash or result). */
  effects: StepName[];
  events: JournalEvent[];
  crashes: number;
  /** How many times the runner stopped because it lost its lease (E_BUSY), then was resumed. */
  leaseLosses: number;
  /** The snapshot folded from the journal afterwards equals the live one. */
  replayMatches: boolean;
  /** The simulated service: what runs at the end, and every breach of its guarantees on the way. */
  service: ServiceWorld;
}

/**
 * Runs the real runner on a real SQLite journal with step doubles that follow a fault schedule;
 * every simulated crash is followed by a resume, as an operator would. Pass your own `steps` to
 * wrap your implementations: the schedule is applied around them.
 */
export async function simulateRun(options: {
  schedule: FaultSchedule;
  config?: ResolvedConfig;
  steps?: Partial<StepImplementations>;
  dir?: string;
  maxResumes?: number;
}): Promise<SimulatedRun> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "um-sim-"));
  const config = options.config ?? resolveConfig({ name: "simulated", database: "sqlite:./target.sqlite" }, dir, null);
  const store = await openJournal(`sqlite:${join(dir, "journal.sqlite")}`, dir);
  const effects: StepName[] = [];
  const service = serviceWorld();
  const attempts = new Map<StepName, number>();
  const crashAfterResult = new Set<string>();
  const faultOf = (step: StepName, attempt: number) => options.schedule[step]?.[attempt] ?? "ok";
  let restoreRenewal: (() => void) | undefined;
  const doubles = Object.fromEntries(
    STEP_NAMES.map((step) => {
      const inner: StepDefinition | undefined = options.steps?.[step];
      const def: StepEffect = {
        async run(ctx) {
          const attempt = attempts.get(step) ?? 0;
          attempts.set(step, attempt + 1);
          const fault = faultOf(step, attempt);
          if (fault === "crashBefore") throw new SimulatedCrash(`crash before ${step}`);
          effects.push(step);
          if (!inner) serviceEffect(service, step, fault);
          const output = inner ? await inner.run(ctx) : { step, attempt };
          if (fault === "crashAfter" || fault === "secondInstance") throw new SimulatedCrash(`crash after ${step}`);
          if (fault === "loseLease") {
            await store.acquireLease(
              { target: TARGET, owner: THIEF, runId: null, host: "elsewhere", pid: 1, process: null },
              60_000,
              () => true,
            );
          }
          if (fault === "renewalFails") {
            const renew = store.renewLease;
            store.renewLease = async () => {
              throw new UpgradeError("E_JOURNAL", "simulated: the journal refuses the renewal");
            };
            await new Promise((r) => setTimeout(r, SIMULATED_LEASE_MS + 100));
            restoreRenewal = () => (store.renewLease = renew);
          }
          if (fault === "throw") throw new UpgradeError("E_STEP", `scheduled failure of ${step}`);
          if (fault === "crashAfterResult") crashAfterResult.add(`${step}:${attempt}`);
          return output;
        },
      };
      return [step, def];
    }),
  ) as StepEffects;
  const runner = {
    store,
    config,
    target: TARGET,
    steps: doubles,
    openDatabase: () =>
      Promise.reject(
        new UpgradeError("E_USAGE", "simulateRun has no database to give a step", {
          hint: "pass step implementations that do not call ctx.database()",
        }),
      ),
    backupRoot: join(dir, "backups"),
    afterAppend: (e: JournalEvent) => {
      if ((e.type === "step.succeeded" || e.type === "step.failed") && e.step) {
        const key = `${e.step}:${(attempts.get(e.step) ?? 1) - 1}`;
        if (crashAfterResult.delete(key)) throw new SimulatedCrash(`crash after the result of ${e.step}`);
      }
    },
    leaseTtlMs: SIMULATED_LEASE_MS,
  };
  let crashes = 0;
  let leaseLosses = 0;
  /** A crash is resumed; a lost lease too, once the other driver is gone and the journal answers again. */
  const interrupted = async (err: unknown): Promise<void> => {
    if (err instanceof SimulatedCrash) {
      crashes++;
      return;
    }
    if (!isUpgradeError(err, "E_BUSY")) throw err;
    leaseLosses++;
    restoreRenewal?.();
    restoreRenewal = undefined;
    await store.releaseLease(TARGET, THIEF);
  };
  try {
    let result: RunResult | undefined;
    try {
      result = await startRun(runner, { toVersion: "2.0.0" });
    } catch (err) {
      await interrupted(err);
    }
    while (!result) {
      if (crashes + leaseLosses > (options.maxResumes ?? 100)) throw new Error("too many simulated crashes");
      try {
        result = await resumeRun(runner);
      } catch (err) {
        await interrupted(err);
      }
    }
    const run = await latestRun(store, TARGET);
    const events = await store.read(run!.runId);
    const replayMatches = JSON.stringify(runResult(run!.runId, events, foldJournal(events))) === JSON.stringify(result);
    const breach = finalBreach(service, result.state);
    if (breach) service.violations.push(breach);
    return { result, effects, events, crashes, leaseLosses, replayMatches, service };
  } finally {
    await store.close();
  }
}
