import type { ViewServer } from "../view/http.js";
import { openView } from "../view/open.js";
import { defineCommand, type ArgsOf } from "./define.js";
import { EXIT, type CliIo } from "./io.js";
import { isLoopback } from "./loopback.js";

/** Resolves on the first SIGINT or SIGTERM; the listeners are removed afterwards. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

export const VIEW_FLAGS = {
  port: { type: "port", value: "N", help: "the page's port (default: a free one)" },
  host: {
    type: "string",
    value: "ADDR",
    help: "the address to listen on (default 127.0.0.1; any other exposes the journal to the network)",
  },
} as const;

/**
 * `upgrade-machine view [--port N] [--host ADDR]`: serves the live view of the config's runs
 * until interrupted, and prints its URL (token included) on stdout.
 * `stop` is for tests: the server closes when it resolves (default: SIGINT or SIGTERM).
 */
export async function viewCommand(args: ArgsOf<typeof VIEW_FLAGS>, io: CliIo, stop: () => Promise<unknown> = untilSignal): Promise<number> {
  const host = args.host ?? "127.0.0.1";
  const view = await openView(args.config, { cwd: io.cwd, host, ...(args.port !== undefined ? { port: args.port } : {}) });
  return serveView(view, { host, json: args.json, label: "live view", type: "view" }, io, stop);
}

/**
 * Prints an open view's URL (`{"type", "url", "port"}` with --json), warns when it listens beyond
 * loopback, and keeps it open until `stop` resolves (default: SIGINT or SIGTERM); then closes it.
 */
export async function serveView(
  view: ViewServer,
  o: { host: string; json: boolean; label: string; type: string },
  io: CliIo,
  stop: () => Promise<unknown> = untilSignal,
): Promise<number> {
  const host = o.host;
  try {
    if (o.json) {
      io.stdout.write(`${JSON.stringify({ type: o.type, url: view.url, port: view.port })}\n`);
    } else {
      io.stdout.write(`${o.label}: ${view.url}\n`);
      if (!isLoopback(host)) {
        io.stderr.write(
          `warning: listening on ${host}, not only this machine; anyone with the URL (token included) can read the journal\n`,
        );
      }
      io.stderr.write("stop with Ctrl-C\n");
    }
    await stop();
    return EXIT.ok;
  } finally {
    await view.close();
  }
}

/** `upgrade-machine view`. */
export const viewCommandDefinition = defineCommand({
  summary: "serve a live page of the machine and the journal (loopback, token in the URL, nothing loaded from the internet)",
  details: ["Stop it with Ctrl-C. It never takes the lease: it can watch a run that another process drives."],
  flags: VIEW_FLAGS,
  run: (args, io) => viewCommand(args, io),
});
