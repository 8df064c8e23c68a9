import type { Command } from "./define.js";
import { backupsCommand, backupsPruneCommand } from "./backups-command.js";
import { abandonCommand, restoreCommand, resumeCommand, runCommand } from "./drive-commands.js";
import { FLEET_COMMANDS } from "./fleet-commands.js";
import { graphCommand } from "./graph-command.js";
import { historyCommand } from "./history-command.js";
import { planCommand, statusCommand } from "./read-commands.js";
import { schemaCommand } from "./schema-command.js";
import { viewCommandDefinition } from "./view-command.js";

/** Every CLI command, in the order of the help. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  run: runCommand,
  resume: resumeCommand,
  status: statusCommand,
  history: historyCommand,
  restore: restoreCommand,
  abandon: abandonCommand,
  plan: planCommand,
  backups: backupsCommand,
  "backups prune": backupsPruneCommand,
  view: viewCommandDefinition,
  graph: graphCommand,
  schema: schemaCommand,
  ...FLEET_COMMANDS,
};
