import { openFleetView } from "../view/open-fleet.js";
import { defineCommand } from "./define.js";
import { serveView, VIEW_FLAGS } from "./view-command.js";

/**
 * `upgrade-machine fleet view --fleet FILE [--rollout ID] [--port N] [--host ADDR]`: serves the
 * fleet page (waves as rows, targets as cells coloured by state, live) until interrupted, and
 * prints its URL (token included). A `fleet` command, not `view --fleet`: it takes the fleet
 * file, as every `fleet` command does, and no upgrade config.
 */
export const fleetViewCommand = defineCommand({
  summary: "serve a live page of the fleet's rollout: a row per wave, a cell per target coloured by state, linked to its run",
  details: [
    "Stop it with Ctrl-C. It reads the shared journal only: it never claims a target, so it can watch workers on other machines.",
    "The page shows what `fleet status --json` prints; /api/status answers it as JSON.",
  ],
  config: false,
  flags: {
    fleet: { type: "string", value: "FILE", required: true, help: "the fleet file (.json, .ts)" },
    rollout: { type: "string", value: "ID", help: "a rollout of the fleet (default: the latest, followed as new ones start)" },
    ...VIEW_FLAGS,
  },
  async run(args, io) {
    const host = args.host ?? "127.0.0.1";
    const view = await openFleetView(args.fleet, {
      cwd: io.cwd,
      host,
      ...(args.port !== undefined ? { port: args.port } : {}),
      ...(args.rollout ? { rolloutId: args.rollout } : {}),
    });
    return serveView(view, { host, json: args.json, label: "fleet view", type: "fleet-view" }, io);
  },
});
