import { configSchema } from "../config/schema.js";
import { defineCommand } from "./define.js";
import { EXIT } from "./io.js";

/** `upgrade-machine schema`: prints the config's JSON Schema (needs no config). */
export const schemaCommand = defineCommand({
  summary: "print the config's JSON Schema (draft 2020-12), for editors and CI checks (needs no config)",
  details: ['Save it beside the config and point "$schema" at it: `upgrade-machine schema > upgrade.schema.json`.'],
  config: false,
  flags: {},
  async run(_args, io) {
    io.stdout.write(`${JSON.stringify(configSchema(), null, 2)}\n`);
    return EXIT.ok;
  },
});
