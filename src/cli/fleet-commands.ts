import type { RolloutEnd } from "../../machines/index.js";
import {
  fleetCommand,
  fleetHistory,
  fleetStatus,
  fleetWork,
  rollout,
  type FleetCommand,
  type RolloutRunnerEvent,
  type RolloutStatus,
} from "../fleet/index.js";
import { defineCommand, type Command } from "./define.js";
import { fleetViewCommand } from "./fleet-view-command.js";
import { EXIT, type CliIo } from "./io.js";

const FLEET = { type: "string", value: "FILE", required: true, help: "the fleet file (.json, .ts)" } as const;

/** The exit code of a rollout's end: 0 completed, 1 halted or cancelled, 3 a target failed. */
function exitOfRollout(state: RolloutEnd): number {
  if (state === "completed") return EXIT.ok;
  return state === "failed" ? EXIT.failed : EXIT.rolledBack;
}

/** One line per rollout event (NDJSON with --json); a target's step events only with --json. */
function printer(io: CliIo, json: boolean): (e: RolloutRunnerEvent) => void {
  return (e) => {
    if (json) return void io.stdout.write(`${JSON.stringify(e)}\n`);
    if (e.type === "wave.opened") io.stdout.write(`wave ${e.wave} opened\n`);
    else if (e.type === "target.started") io.stdout.write(`${e.target}: ${e.resumed ? "resumed" : "started"}\n`);
    else if (e.type === "target.ended") io.stdout.write(`${e.target}: ${e.state}${e.runId ? ` (run ${e.runId})` : ""}\n`);
    else if (e.type === "rollout.finished") io.stdout.write(`rollout ${e.rolloutId}: ${e.state}\n`);
    else if (e.type === "target.stopped")
      io.stderr.write(`${e.target}: stopped, journaling nothing (${e.error.code}: ${e.error.message})\n`);
    else if (e.type === "journal.unreachable")
      io.stderr.write(
        `the journal does not answer (${e.error.code}: ${e.error.message}); trying again in ${(e.retryInMs / 1000).toFixed(1)} s, giving up in ${Math.ceil(e.givingUpInMs / 1000)} s\n`,
      );
    else if (e.type === "journal.reachable") io.stderr.write(`the journal answers again (after ${(e.afterMs / 1000).toFixed(1)} s)\n`);
  };
}

function printStatus(io: CliIo, s: RolloutStatus, json: boolean): void {
  if (json) return void io.stdout.write(`${JSON.stringify(s)}\n`);
  io.stdout.write(`rollout ${s.rollout} to ${s.toVersion}: ${s.state}${s.ending ? ` (ending ${s.ending})` : ""}\n`);
  for (const w of s.waves) {
    const cells = w.targets.map((n) => `${n}=${s.targets.find((t) => t.name === n)?.state}`);
    io.stdout.write(`  wave ${w.wave} (${w.state}, threshold ${w.threshold}): ${cells.join(" ")}\n`);
  }
}

export const fleetRunCommand = defineCommand({
  summary:
    "start a rollout of a fleet and work on it until it ends (exit 0 completed, 1 halted or cancelled, 3 a target failed, 4 another rollout is unfinished)",
  config: false,
  flags: { fleet: FLEET, to: { type: "string", value: "VERSION", required: true, help: "the version every target installs" } },
  async run(args, io) {
    const r = await rollout(args.fleet, { cwd: io.cwd, toVersion: args.to, onEvent: printer(io, args.json) });
    return exitOfRollout(r.state);
  },
});

export const fleetWorkCommand = defineCommand({
  summary: "join the fleet's unfinished rollout as another worker, until it ends (exit codes as fleet run)",
  config: false,
  flags: { fleet: FLEET },
  async run(args, io) {
    const r = await fleetWork(args.fleet, { cwd: io.cwd, onEvent: printer(io, args.json) });
    return exitOfRollout(r.state);
  },
});

export const fleetStatusCommand = defineCommand({
  summary: "the state of the fleet's latest rollout, its waves and every target",
  config: false,
  flags: { fleet: FLEET, rollout: { type: "string", value: "ID", help: "a rollout of the fleet (default: the latest)" } },
  async run(args, io) {
    const s = await fleetStatus(args.fleet, { cwd: io.cwd, ...(args.rollout ? { rolloutId: args.rollout } : {}) });
    if (!s) io.stdout.write(args.json ? `${JSON.stringify({ rollout: null, state: "none" })}\n` : "no rollout yet\n");
    else printStatus(io, s, args.json);
    return EXIT.ok;
  },
});

export const fleetHistoryCommand = defineCommand({
  summary: "the fleet's rollouts, newest first",
  config: false,
  flags: { fleet: FLEET },
  async run(args, io) {
    for (const s of await fleetHistory(args.fleet, { cwd: io.cwd })) {
      const done = s.targets.filter((t) => t.state === "completed").length;
      if (args.json) io.stdout.write(`${JSON.stringify(s)}\n`);
      else io.stdout.write(`${s.rollout}  to ${s.toVersion}  ${s.state}  ${done}/${s.targets.length} completed\n`);
    }
    return EXIT.ok;
  },
});

const SUMMARIES: Record<FleetCommand, string> = {
  pause: "pause the fleet's rollout: no target starts; running ones finish",
  resume: "resume a paused rollout",
  cancel: "cancel the fleet's rollout: queued targets never start; running ones finish",
  approve: 'approve the next wave of a fleet with "approve": true',
};

function journaled(command: FleetCommand): Command {
  return defineCommand({
    summary: SUMMARIES[command],
    config: false,
    flags: { fleet: FLEET },
    async run(args, io) {
      printStatus(io, await fleetCommand(args.fleet, command, { cwd: io.cwd }), args.json);
      return EXIT.ok;
    },
  }) as Command;
}

/** The `fleet` commands, by name. */
export const FLEET_COMMANDS: Readonly<Record<string, Command>> = {
  "fleet run": fleetRunCommand as Command,
  "fleet work": fleetWorkCommand as Command,
  "fleet status": fleetStatusCommand as Command,
  "fleet pause": journaled("pause"),
  "fleet resume": journaled("resume"),
  "fleet cancel": journaled("cancel"),
  "fleet approve": journaled("approve"),
  "fleet history": fleetHistoryCommand as Command,
  "fleet view": fleetViewCommand as Command,
};
