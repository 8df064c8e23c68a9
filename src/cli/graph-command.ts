import { machineGraph, toJson } from "../graph/machine-graph.js";
import { toDot } from "../graph/dot.js";
import { toMermaid } from "../graph/mermaid.js";
import { defineCommand } from "./define.js";
import { EXIT } from "./io.js";

/** The formats of `upgrade-machine graph`. */
export const GRAPH_FORMATS = {
  mermaid: toMermaid,
  dot: toDot,
  json: toJson,
} as const;

type GraphFormat = keyof typeof GRAPH_FORMATS;

/**
 * `upgrade-machine graph [--format mermaid|dot|json]`: prints the machine's states and
 * transitions, built from the machine itself (default mermaid; `--json` means json). Needs no
 * config.
 */
export const graphCommand = defineCommand({
  summary: "print the machine's states and transitions (needs no config)",
  config: false,
  flags: {
    format: {
      type: "string",
      choices: Object.keys(GRAPH_FORMATS) as GraphFormat[],
      help: "the output format (default mermaid; json with --json)",
    },
  },
  async run(args, io) {
    const format = (args.format ?? (args.json ? "json" : "mermaid")) as GraphFormat;
    io.stdout.write(GRAPH_FORMATS[format](machineGraph()));
    return EXIT.ok;
  },
});
