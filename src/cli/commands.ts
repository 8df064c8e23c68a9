import type { Command } from "./define.js";
import { abandonCommand, resumeCommand, runCommand } from "./drive-commands.js";
import { graphCommand } from "./graph-command.js";
import { historyCommand } from "./history-command.js";
import { backupsCommand, planCommand, statusCommand } from "./read-commands.js";
import { schemaCommand } from "./schema-command.js";
import { viewCommandDefinition } from "./view-command.js";

/** Every CLI command, in the order of the help. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  run: runCommand,
  resume: resumeCommand,
  status: statusCommand,
  history: historyCommand,
  abandon: abandonCommand,
  plan: planCommand,
  backups: backupsCommand,
  view: viewCommandDefinition,
  graph: graphCommand,
  schema: schemaCommand,
};
