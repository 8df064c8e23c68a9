import type { CliIo } from "./io.js";

/** A flag as a command declares it, once: the parser, its checks and the help are made from it. */
export interface FlagSpec {
  /** `string` takes a value, `boolean` none, `port` a number from 0 to 65535. */
  readonly type: "string" | "boolean" | "port";
  /** The value's placeholder in the help (`VERSION`, `ID`); default `VALUE`. */
  readonly value?: string;
  /** The only values allowed; the help shows them as `a|b|c`. */
  readonly choices?: readonly string[];
  /** A one-letter alias (`c` for `-c`). */
  readonly short?: string;
  /** The command refuses to run without it (E_USAGE). */
  readonly required?: boolean;
  /** One line for the help. */
  readonly help: string;
}

/** The flags of a command, by long name. */
export type Flags = Readonly<Record<string, FlagSpec>>;

type ValueOf<F extends FlagSpec> = F["type"] extends "boolean"
  ? boolean
  : F["type"] extends "port"
    ? number | undefined
    : F extends { required: true }
      ? string
      : string | undefined;

/** What every command gets besides its own flags. */
export interface GlobalArgs {
  /** The config file (`--config`, $UPGRADE_MACHINE_CONFIG, ./upgrade.json...); "" for a command that reads none. */
  config: string;
  /** `--json`: NDJSON output. */
  json: boolean;
}

/** The parsed values of a command's flags (an absent boolean is false), with the global ones. */
export type ArgsOf<F extends Flags> = GlobalArgs & { -readonly [K in keyof F]: ValueOf<F[K]> };

/** A CLI command: its flags, one line for the help, and what it does. */
export interface Command<F extends Flags = Flags> {
  /** One line: what the command does (the first line of its help). */
  readonly summary: string;
  /** More lines for `upgrade-machine <command> --help`. */
  readonly details?: readonly string[];
  readonly flags: F;
  /** False for a command that reads no config (`graph`); default true. */
  readonly config?: boolean;
  /** Runs the command; resolves with the exit code. */
  run(args: ArgsOf<F>, io: CliIo): Promise<number>;
}

/** Declares a command, its flags typed for its `run`. */
export function defineCommand<const F extends Flags>(command: Command<F>): Command<F> {
  return command;
}

/** The flags every command takes. */
export const GLOBAL_FLAGS = {
  config: {
    type: "string",
    short: "c",
    value: "FILE",
    help: "the config (.json, .ts, .js); default ./upgrade.json or $UPGRADE_MACHINE_CONFIG",
  },
  json: { type: "boolean", help: "NDJSON output: one JSON object per line" },
  help: { type: "boolean", short: "h", help: "print the help (of the command, when one is given) and exit" },
} as const satisfies Flags;
