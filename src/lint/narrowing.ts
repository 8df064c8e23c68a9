/** What a new column type admits that the lint can count against: a length, or an integer range. */
export type TypeLimit = { length: number } | { min: string; max: string; name: string };

const RANGES: [RegExp, string, string][] = [
  [/^tinyint\b.*\bunsigned\b/, "0", "255"],
  [/^tinyint\b/, "-128", "127"],
  [/^smallint\b.*\bunsigned\b/, "0", "65535"],
  [/^(smallint|int2)\b/, "-32768", "32767"],
  [/^mediumint\b.*\bunsigned\b/, "0", "16777215"],
  [/^mediumint\b/, "-8388608", "8388607"],
  [/^(int|integer)\b.*\bunsigned\b/, "0", "4294967295"],
  [/^(int|integer|int4)\b/, "-2147483648", "2147483647"],
];

/** The limit of a type that may not hold every value of a wider one; null for any other type. Pure. */
export function limitOf(type: string): TypeLimit | null {
  const t = type.toLowerCase().trim();
  const len = /^(character varying|varchar|char|character|nvarchar|nchar|varbinary|binary)\s*\(\s*(\d+)\s*\)/.exec(t);
  if (len) return { length: Number(len[2]) };
  for (const [re, min, max] of RANGES) if (re.test(t)) return { min, max, name: t.split("(")[0] as string };
  return null;
}

/** Whether a column of type `current` can be measured for `limit` (a length of text, a range of numbers). */
export function measurable(current: string, limit: TypeLimit): boolean {
  const t = current.toLowerCase();
  if ("length" in limit) return /char|text|clob|string/.test(t);
  return /int|numeric|decimal|number/.test(t);
}
