import { UpgradeError, type ErrorCode } from "./errors.js";

/**
 * What a version is, for `--to` and for every version a command prints: a letter or digit, then
 * up to 63 letters, digits and `.+_~-`. It covers semver (`1.2.3-rc.1+build.5`), PEP 440
 * (`5.2.1`, `2.0.0b1`, `1.0.post2`) and npm versions. It never starts with `-` (an option to the
 * package manager) or `.`, and never holds `/`, spaces, quotes or shell syntax. Debian epochs
 * (`1:2.3-4`) are not versions here.
 */
export const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$/;

const SHOWN = 80;

/** True when `value` is a version by {@link VERSION_PATTERN}. */
export function isVersion(value: string): boolean {
  return VERSION_PATTERN.test(value);
}

function shown(value: string): string {
  return JSON.stringify(value.length > SHOWN ? `${value.slice(0, SHOWN)}…` : value);
}

/**
 * Checks a requested version (`--to`, `upgrade({ toVersion })`): `E_USAGE` when it is not a
 * version. `null`/`undefined` (no version requested) passes; an empty string does not.
 */
export function checkRequestedVersion(value: string | null | undefined): void {
  if (value === null || value === undefined || isVersion(value)) return;
  throw new UpgradeError("E_USAGE", `the version to install (--to) ${shown(value)} is not a version`, {
    hint: "pass the version to install, e.g. `--to 2.0.0`: a letter or digit, then up to 63 letters, digits or . + _ ~ -",
    details: { toVersion: value.slice(0, SHOWN) },
  });
}

/**
 * The version a `package.version` command printed: the last non-empty line of its stdout,
 * trimmed. Unparsable means that this whole line is not a version (nothing printed, `1.0.0
 * (build 7)`, an error text): `code` is thrown then (`E_PREFLIGHT` in preflight, `E_VERSION`
 * after an install), since the run cannot know which version to check or reinstall.
 */
export function versionFromOutput(stdout: string, argv: readonly string[], code: ErrorCode): string {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines[lines.length - 1];
  if (last !== undefined && isVersion(last)) return last;
  const said = last === undefined ? "nothing" : shown(last);
  throw new UpgradeError(code, `package.version (${argv.join(" ")}) printed ${said} as its last line, not a version`, {
    hint: "make package.version print only the installed version (e.g. 2.0.0) as its last line of stdout",
    details: { argv: [...argv], lastLine: last === undefined ? null : last.slice(0, SHOWN) },
  });
}

/** Checks `{fromVersion}`/`{toVersion}` before they reach a command's argv (a run journaled by an older release). */
export function checkPlaceholderVersion(name: string, value: string | null): void {
  if (value === null || isVersion(value)) return;
  throw new UpgradeError("E_VERSION", `the run's ${name} ${shown(value)} is not a version; it is not passed to a command`, {
    hint: "finish or abandon this run and start a new one with a valid `--to`",
  });
}
