import { EXIT, EXIT_MEANINGS, type ExitName } from "../error-codes.js";
import { GLOBAL_FLAGS, type Command, type FlagSpec, type Flags } from "./define.js";

const WIDTH = 100;

/** `text` folded into lines of at most WIDTH columns, every line after the first indented. */
function wrap(text: string, indent: number, first = indent): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const room = WIDTH - (lines.length ? indent : first);
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

/** `--to VERSION`, `-c, --config FILE`, `--format mermaid|dot|json`, `--json`. */
function flagText(name: string, f: FlagSpec, withShort: boolean): string {
  const value = f.type === "boolean" ? "" : ` ${f.choices ? f.choices.join("|") : (f.value ?? "VALUE")}`;
  return `${withShort && f.short ? `-${f.short}, ` : ""}--${name}${value}`;
}

/** The command with its flags, optional ones in brackets: `abandon --run ID --reason TEXT`. */
export function synopsis(name: string, command: Command): string {
  const flags = Object.entries(command.flags).map(([n, f]) => (f.required ? flagText(n, f, false) : `[${flagText(n, f, false)}]`));
  return [name, ...flags].join(" ");
}

function flagLines(flags: Flags): string {
  const rows = Object.entries(flags).map(([n, f]) => [flagText(n, f, true), f.help] as const);
  const width = Math.max(...rows.map(([t]) => t.length)) + 2;
  return rows.map(([t, help]) => `  ${t.padEnd(width)}${wrap(help, width + 2)}\n`).join("");
}

function exitLines(): string {
  return (Object.keys(EXIT) as ExitName[]).map((k) => `  ${EXIT[k]}  ${wrap(EXIT_MEANINGS[k], 5)}\n`).join("");
}

/** `upgrade-machine --help`: every command with its flags and what it does, the global flags, the exit codes. */
export function mainHelp(commands: Readonly<Record<string, Command>>): string {
  const list = Object.entries(commands)
    .map(([name, c]) => `  ${wrap(synopsis(name, c), 6, 2)}\n      ${wrap(c.summary, 6)}\n`)
    .join("");
  return [
    "upgrade-machine: safe, resumable upgrades of a database-backed service\n\n",
    "usage: upgrade-machine <command> [options]\n",
    "       upgrade-machine <command> --help   the options of a command\n\n",
    `commands:\n${list}\n`,
    `options of every command:\n${flagLines(GLOBAL_FLAGS)}\n`,
    `exit codes:\n${exitLines()}`,
  ].join("");
}

/** `upgrade-machine <command> --help`: what it does, its flags and the global ones. */
export function commandHelp(name: string, command: Command): string {
  const details = (command.details ?? []).map((d) => `\n${wrap(d, 0)}\n`).join("");
  return [
    `usage: upgrade-machine ${wrap(synopsis(name, command), 7, 22)} [options]\n\n`,
    `${wrap(command.summary, 0)}\n${details}\n`,
    Object.keys(command.flags).length ? `options:\n${flagLines(command.flags)}\n` : "",
    `options of every command:\n${flagLines(GLOBAL_FLAGS)}\n`,
    `exit codes:\n${exitLines()}`,
  ].join("");
}
