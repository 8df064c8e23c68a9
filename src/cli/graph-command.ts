import { UpgradeError } from "../errors.js";
import { machineGraph, toJson } from "../graph/machine-graph.js";
import { toDot } from "../graph/dot.js";
import { toMermaid } from "../graph/mermaid.js";
import { EXIT, type CliIo } from "./io.js";
import type { CliArgs } from "./main.js";

/** The formats of `upgrade-machine graph`. */
export const GRAPH_FORMATS = {
  mermaid: toMermaid,
  dot: toDot,
  json: toJson,
} as const;

/**
 * `upgrade-machine graph [--format mermaid|dot|json]`: prints the machine's states and
 * transitions, built from the machine itself (default mermaid; `--json` means json). Needs no
 * config.
 */
export async function graphCommand(args: CliArgs, io: CliIo): Promise<number> {
  const format = args.format ?? (args.json ? "json" : "mermaid");
  if (!(format in GRAPH_FORMATS)) {
    throw new UpgradeError("E_USAGE", `unknown graph format "${format}"`, { hint: `formats: ${Object.keys(GRAPH_FORMATS).join(", ")}` });
  }
  io.stdout.write(GRAPH_FORMATS[format as keyof typeof GRAPH_FORMATS](machineGraph()));
  return EXIT.ok;
}
