import { exitCodeFor } from "../error-codes.js";
import { isUpgradeError } from "../errors.js";
import { COMMANDS } from "./commands.js";
import { commandHelp, mainHelp } from "./help.js";
import { EXIT, type CliIo } from "./io.js";
import { parseCommandLine } from "./parse.js";

/**
 * The exit code for an error that ended the command before or outside a run, from the error
 * table; anything that is not an UpgradeError is E_INTERNAL.
 */
export function exitCodeOf(err: unknown): number {
  return exitCodeFor(isUpgradeError(err) ? err.code : "E_INTERNAL");
}

/**
 * The CLI: `upgrade-machine <command> [options]`, argv passed in so it runs in process in tests.
 * Resolves with the exit code; never calls process.exit.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let json = argv.includes("--json");
  try {
    const line = parseCommandLine(argv, COMMANDS, io);
    if (line.help) {
      io.stdout.write(line.command ? commandHelp(line.command, COMMANDS[line.command]!) : mainHelp(COMMANDS));
      return EXIT.ok;
    }
    json = line.args.json;
    return await COMMANDS[line.command]!.run(line.args, io);
  } catch (err) {
    const code = exitCodeOf(err);
    if (json) {
      const e = isUpgradeError(err)
        ? { code: err.code, message: err.summary, hint: err.hint }
        : { code: "E_INTERNAL", message: String((err as Error)?.message ?? err) };
      io.stdout.write(`${JSON.stringify({ type: "error", ...e })}\n`);
    } else {
      const debug = io.env.UPGRADE_MACHINE_DEBUG ? `\n${(err as Error)?.stack ?? ""}` : "";
      io.stderr.write(
        isUpgradeError(err)
          ? `upgrade-machine: ${err.code}: ${err.message}${debug}\n`
          : `upgrade-machine: internal error: ${String((err as Error)?.message ?? err)}\n  next: this is a bug of upgrade-machine; run again with UPGRADE_MACHINE_DEBUG=1 for the stack trace and report it${debug}\n`,
      );
    }
    return code;
  }
}
