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

const finished = (o: StepOutcome | undefined) => (o?.finishedAt ? Date.parse(o.finishedAt) : null);

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
      samples: [{ value: result.downtime.seconds }],
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
