import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UpgradeError } from "../errors.js";
import { GLOBAL_FLAGS, type ArgsOf, type Command, type FlagSpec, type Flags } from "./define.js";
import type { CliIo } from "./io.js";

/** A parsed command line: a command to run with its values, or a request for help. */
export type CommandLine = { help: true; command: string | null } | { help: false; command: string; args: ArgsOf<Flags> };

type Options = NonNullable<ParseArgsConfig["options"]>;

function optionsOf(flags: Flags): Options {
  const options: Options = {};
  for (const [name, f] of Object.entries(flags))
    options[name] = { type: f.type === "boolean" ? "boolean" : "string", ...(f.short ? { short: f.short } : {}) };
  return options;
}

/** The commands that declare the flag `name`. */
function takersOf(name: string, commands: Readonly<Record<string, Command>>): string[] {
  return Object.keys(commands).filter((c) => name in commands[c]!.flags);
}

function usage(message: string, command: string | null): UpgradeError {
  return new UpgradeError("E_USAGE", message, { hint: `see \`upgrade-machine ${command ? `${command} ` : ""}--help\`` });
}

function portOf(value: string, flag: string, command: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw usage(`--${flag} must be a number from 0 to 65535, not "${value}"`, command);
  return port;
}

/**
 * The first positional argument is the command (the first two, when they name a command together). Read with every flag of every command (not
 * strictly), so that a flag's value is never taken for the command.
 */
function findCommand(argv: string[], commands: Readonly<Record<string, Command>>) {
  const all: Flags = Object.assign({}, GLOBAL_FLAGS, ...Object.values(commands).map((c) => c.flags));
  const { tokens } = parseArgs({ args: argv, options: optionsOf(all), allowPositionals: true, strict: false, tokens: true });
  const [at, sub] = tokens.filter((t) => t.kind === "positional");
  const first = at?.kind === "positional" ? at.value : null;
  // A command of two words (`backups prune`) when the second positional names one.
  const two = sub?.kind === "positional" && first !== null && Object.hasOwn(commands, `${first} ${sub.value}`);
  return { all, tokens, name: two ? `${first} ${sub.value}` : first, words: two ? 2 : 1, index: at?.index ?? argv.length };
}

/**
 * Parses `argv` against the commands' declarations. E_USAGE for an unknown command, a flag that
 * no command or not this one takes, a command's flag before the command, a missing required
 * flag, a value of the wrong kind, and a missing config; `--help` (or no command) asks for help.
 */
export function parseCommandLine(argv: string[], commands: Readonly<Record<string, Command>>, io: CliIo): CommandLine {
  const found = findCommand(argv, commands);
  const name = found.name;
  if (name === null) {
    const unknown = found.tokens.find((t) => t.kind === "option" && !(t.name in found.all));
    if (unknown?.kind === "option") throw usage(`unknown option ${unknown.rawName}`, null);
    strictly(argv, found.all, null);
    return { help: true, command: null };
  }
  if (!Object.hasOwn(commands, name))
    throw new UpgradeError("E_USAGE", `unknown command "${name}"`, { hint: `commands: ${Object.keys(commands).join(", ")}` });
  const command = commands[name]!;
  for (const t of found.tokens) {
    if (t.kind !== "option" || t.name in GLOBAL_FLAGS) continue;
    if (!(t.name in command.flags)) {
      const takers = takersOf(t.name, commands);
      throw takers.length
        ? usage(`${t.rawName} is not an option of \`${name}\` (it is one of ${takers.map((c) => `\`${c}\``).join(", ")})`, name)
        : usage(`unknown option ${t.rawName}`, name);
    }
    if (t.index < found.index)
      throw usage(
        `${t.rawName} is an option of \`${name}\`: put it after the command (\`upgrade-machine ${name} ${t.rawName} ...\`)`,
        name,
      );
  }
  const parsed = strictly(argv, { ...GLOBAL_FLAGS, ...command.flags }, name);
  if (parsed.values.help === true) return { help: true, command: name };
  const extra = parsed.positionals.slice(found.words);
  if (extra.length) throw usage(`unexpected argument "${extra[0]}"`, name);
  const values: Record<string, unknown> = {};
  for (const [flag, spec] of Object.entries(command.flags)) values[flag] = flagValue(flag, spec, parsed.values[flag], name);
  return {
    help: false,
    command: name,
    args: { ...values, config: configOf(parsed.values.config, command, io), json: parsed.values.json === true } as ArgsOf<Flags>,
  };
}

/** Node's strict parse: a value of the wrong kind (a string flag without one, a boolean with one) is E_USAGE. */
function strictly(argv: string[], flags: Flags, command: string | null) {
  try {
    return parseArgs({ args: argv, options: optionsOf(flags), allowPositionals: true, strict: true });
  } catch (err) {
    throw usage((err as Error).message, command);
  }
}

function flagValue(flag: string, spec: FlagSpec, raw: string | boolean | (string | boolean)[] | undefined, command: string): unknown {
  if (spec.type === "boolean") return raw === true;
  if (typeof raw !== "string") {
    if (spec.required) throw usage(`\`${command}\` needs --${flag} ${spec.value ?? "VALUE"}: ${spec.help}`, command);
    return undefined;
  }
  if (spec.choices && !spec.choices.includes(raw))
    throw usage(`--${flag} must be one of ${spec.choices.join(", ")}, not "${raw}"`, command);
  return spec.type === "port" ? portOf(raw, flag, command) : raw;
}

function configOf(given: unknown, command: Command, io: CliIo): string {
  if (command.config === false) return "";
  const config =
    typeof given === "string"
      ? given
      : (io.env.UPGRADE_MACHINE_CONFIG ??
        ["upgrade.json", "upgrade.config.ts", "upgrade.config.js"].find((f) => existsSync(resolve(io.cwd, f))));
  if (!config)
    throw new UpgradeError("E_USAGE", "no config file given", {
      hint: "pass `--config FILE` (or put upgrade.json in the current directory)",
    });
  return config;
}
