import type { StepName } from "../../machines/index.js";
import type { RunResult, StepOutcome } from "../runner/result.js";
import type { MetricFamily } from "./text-format.js";

/** What the metrics of one run are made of. */
export interface RunMetricsInput {
  /** The config's `name`. */
  name: string;
  result: RunResult;
  /** The bytes of the run's backups (hot backup, restore point when taken anew, files). */
  backupBytes: number;
  /** When the metrics are written (default now): the last-run timestamp when no step finished. */
  now?: Date;
}

/** The steps after which the service answers again: the forward start and health, the rollback's and the abort's start. */
const BACK_UP: readonly StepName[] = ["health", "start", "startPrevious", "restartService"];

const finished = (o: StepOutcome | undefined) => (o?.finishedAt ? Date.parse(o.finishedAt) : null);

/**
 * The service's downtime in seconds, from the run's journal (its step outcomes): from the start
 * of `stop` to the end of the last step that brought a service back (`health`, else `start`;
 * `startPrevious` or `restartService` after a failure). 0 when the service was never stopped
 * (the stop skipped or not reached). A service still down when the run ended counts up to the
 * run's last journaled step.
 */
export function downtimeSeconds(result: RunResult): number {
  const stop = result.steps.find((s) => s.step === "stop");
  if (!stop?.startedAt || stop.outcome === "skipped") return 0;
  const from = Date.parse(stop.startedAt);
  const back = result.steps.filter((s) => BACK_UP.includes(s.step) && s.outcome === "succeeded").map(finished);
  const ends = back.length ? back : result.steps.map(finished);
  const to = Math.max(from, ...ends.filter((t): t is number => t !== null));
  return (to - from) / 1000;
}

/** When the run's last journaled step finished (seconds since the epoch), or `now` when none did. */
function lastRunSeconds(result: RunResult, now: Date): number {
  const times = result.steps.map(finished).filter((t): t is number => t !== null);
  return (times.length ? Math.max(...times) : now.getTime()) / 1000;
}

/**
 * The metrics of a run, named as issue 14 lists them: run info (name, versions, state), downtime,
 * each step's duration, when the run ended and the size of its backups.
 */
export function runMetrics(input: RunMetricsInput): MetricFamily[] {
  const { result } = input;
  return [
    {
      name: "upgrade_machine_run_info",
      help: "The last run of upgrade-machine on this target: its config name, versions and state (always 1).",
      type: "gauge",
      samples: [
        {
          labels: { name: input.name, from_version: result.fromVersion ?? "", to_version: result.toVersion ?? "", state: result.state },
          value: 1,
        },
      ],
    },
    {
      name: "upgrade_machine_downtime_seconds",
      help: "How long the service was down during the last run: from the start of the stop until a service answered healthy again.",
      type: "gauge",
      samples: [{ value: downtimeSeconds(result) }],
    },
    {
      name: "upgrade_machine_step_duration_seconds",
      help: "How long each step of the last run took, from its first start to its last end in the journal.",
      type: "gauge",
      samples: result.steps.filter((s) => s.durationMs !== null).map((s) => ({ labels: { step: s.step }, value: s.durationMs! / 1000 })),
    },
    {
      name: "upgrade_machine_last_run_timestamp_seconds",
      help: "When the last run ended (its last journaled step), in seconds since the Unix epoch.",
      type: "gauge",
      samples: [{ value: lastRunSeconds(result, input.now ?? new Date()) }],
    },
    {
      name: "upgrade_machine_backup_bytes",
      help: "The size in bytes of the last run's backups: the database's hot backup, the restore point when taken anew, and the files.",
      type: "gauge",
      samples: [{ value: input.backupBytes }],
    },
  ];
}
