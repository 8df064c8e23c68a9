import { UpgradeError } from "../errors.js";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * An age such as `30d`, `12h`, `90m`, `2w` or `45s`, in milliseconds; E_USAGE for anything else
 * (no unit, a negative or fractional number, an unknown unit).
 */
export function parseAge(text: string): number {
  const m = /^(\d{1,9})([smhdw])$/.exec(text.trim());
  if (!m) {
    throw new UpgradeError("E_USAGE", `--older-than must be a whole number and a unit (s, m, h, d, w), e.g. 30d, not "${text}"`, {
      hint: "e.g. `--older-than 30d` or `--older-than 12h`",
    });
  }
  return Number(m[1]) * UNITS[m[2]!]! * 1000;
}
