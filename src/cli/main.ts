import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { EXIT, type CliIo } from "./io.js";
import { COMMANDS, USAGE } from "./commands.js";

const OPTIONS = {
  config: { type: "string", short: "c" },
  to: { type: "string" },
  run: { type: "string" },
  reason: { type: "string" },
  json: { type: "boolean", default: false },
  verify: { type: "boolean", default: false },
  inspect: { type: "boolean", default: false },
  format: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Parsed command line. */
export interface CliArgs {
  command: string;
  config: string;
  to: string | undefined;
  run: string | undefined;
  /** `abandon --reason TEXT`. */
  reason: string | undefined;
  json: boolean;
  verify: boolean;
  /** `run`/`resume --inspect`: serve the XState inspector's WebSocket relay. */
  inspect: boolean;
  /** `graph --format mermaid|dot|json`. */
  format: string | undefined;
  /** `view --port N` (default: a free port) and `--inspect --port N` (default 8080). */
  port: number | undefined;
  /** `view --host ADDR` (default 127.0.0.1). */
  host: string | undefined;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UpgradeError("E_USAGE", `--port must be a number from 0 to 65535, not "${value}"`, { hint: "see `upgrade-machine --help`" });
  return port;
}

function parse(argv: string[], io: CliIo): CliArgs | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UpgradeError("E_USAGE", (err as Error).message, { hint: "see `upgrade-machine --help`" });
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return "help";
  const [command, ...extra] = positionals;
  if (!command || !(command in COMMANDS)) {
    throw new UpgradeError("E_USAGE", `unknown command "${command}"`, { hint: `commands: ${Object.keys(COMMANDS).join(", ")}` });
  }
  if (extra.length) throw new UpgradeError("E_USAGE", `unexpected argument "${extra[0]}"`, { hint: "see `upgrade-machine --help`" });
  const config = values.config ?? io.env.UPGRADE_MACHINE_CONFIG ?? ["upgrade.json", "upgrade.config.ts", "upgrade.config.js"].find((f) => existsSync(resolve(io.cwd, f)));
  // `graph` prints the machine itself: it reads no config.
  if (!config && command !== "graph") {
    throw new UpgradeError("E_USAGE", "no config file given", { hint: "pass `--config FILE` (or put upgrade.json in the current directory)" });
  }
  return {
    command,
    config: config ?? "",
    to: values.to,
    run: values.run,
    reason: values.reason,
    json: values.json,
    verify: values.verify,
    inspect: values.inspect,
    format: values.format,
    port: portOf(values.port),
    host: values.host,
  };
}

/** The exit code for an error that ended the command before or outside a run. */
export function exitCodeOf(err: unknown): number {
  if (!isUpgradeError(err)) return EXIT.failed;
  if (err.code === "E_BUSY" || err.code === "E_UNFINISHED") return EXIT.busy;
  if (["E_USAGE", "E_CONFIG", "E_URL", "E_NOT_FOUND", "E_MIGRATION_FOLDER"].includes(err.code)) return EXIT.usage;
  // what preflight refuses outside a run (plan) ends like an aborted run: nothing changed
  if (err.code === "E_PREFLIGHT") return EXIT.rolledBack;
  return EXIT.failed;
}

/**
 * The CLI: `upgrade-machine <command> [options]`, argv passed in so it runs in process in tests.
 * Resolves with the exit code; never calls process.exit.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let json = argv.includes("--json");
  try {
    const args = parse(argv, io);
    if (args === "help") {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    json = args.json;
    return await COMMANDS[args.command as keyof typeof COMMANDS](args, io);
  } catch (err) {
    const code = exitCodeOf(err);
    if (json) {
      const e = isUpgradeError(err) ? { code: err.code, message: err.summary, hint: err.hint } : { code: "E_INTERNAL", message: String((err as Error)?.message ?? err) };
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
