import { UpgradeError, isUpgradeError } from "../errors.js";
import { parseDatabaseUrl } from "../url.js";
import type { UpgradeConfig } from "./types.js";

type Obj = Record<string, unknown>;

const ARGV_HINT = 'commands are argv arrays, e.g. ["./ctl.sh", "stop"]';
const DEFAULT_HINT = "fix the fields listed above; every field is documented on UpgradeConfig (src/config/types.ts)";
const TOP_KEYS = [
  "name",
  "database",
  "backup",
  "migrations",
  "files",
  "stateDir",
  "journal",
  "announce",
  "service",
  "package",
  "verify",
  "env",
  "preset",
];
const COMMAND_KEYS = ["command", "cwd", "timeoutSeconds", "env"];
const HTTP_KEYS = ["method", "url", "headers", "body", "timeoutSeconds"];
// Every *Seconds field becomes a timer; Node's timers overflow above 2^31-1 ms (about 24.8 days).
const MAX_SECONDS = 7 * 24 * 3600;

/** Collects every problem of a config, each with the field path and an optional hint. */
class Problems {
  readonly list: { message: string; hint?: string }[] = [];
  add(message: string, hint?: string): void {
    this.list.push(hint === undefined ? { message } : { message, hint });
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  const k = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  return path === "" ? k : /^[A-Za-z_$]/.test(k) ? `${path}.${k}` : `${path}[${k}]`;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Checks that `v` is an object with only `allowed` keys; returns it, or undefined (problem recorded). */
function object(v: unknown, path: string, p: Problems, allowed: string[]): Obj | undefined {
  if (!isObj(v)) {
    p.add(`${path || "the config"} must be an object`);
    return undefined;
  }
  for (const key of Object.keys(v)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => distance(a, key) <= Math.max(1, Math.floor(a.length / 3)));
    const where = path === "" ? "" : ` in ${path}`;
    p.add(
      `unknown key ${JSON.stringify(join(path, key))}${near ? ` (did you mean "${near}"?)` : ""}; allowed keys${where}: ${allowed.join(", ")}`,
      near ? `rename "${key}" to "${near}"` : "remove the key (keys are case-sensitive)",
    );
  }
  return v;
}

/** `required`: true, or the hint to give when the field is missing. */
function string(v: unknown, path: string, p: Problems, required: boolean | string = false): v is string {
  if (v === undefined) {
    if (required) p.add(`${path} is required`, typeof required === "string" ? required : undefined);
    return false;
  }
  if (typeof v !== "string") p.add(`${path} must be a string`);
  else if (v.trim() === "") p.add(`${path} must not be empty`);
  else return true;
  return false;
}

function number(v: unknown, path: string, p: Problems, range?: { integer: true; min: number; max: number }): void {
  if (v === undefined) return;
  if (range) {
    if (!Number.isInteger(v) || (v as number) < range.min || (v as number) > range.max)
      p.add(`${path} must be an integer from ${range.min} to ${range.max}`);
  } else if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_SECONDS) {
    const given = typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)).slice(0, 40);
    p.add(`${path} must be a number of seconds from 0 to ${MAX_SECONDS} (7 days), not ${given}`);
  }
}

function argv(v: unknown, path: string, p: Problems): void {
  if (typeof v === "string") {
    p.add(`${path} must be an array of strings, not a shell string: ${ARGV_HINT}`, ARGV_HINT);
    return;
  }
  if (!Array.isArray(v)) {
    p.add(`${path} must be an array of strings`, ARGV_HINT);
    return;
  }
  if (v.length === 0) {
    p.add(`${path} must not be empty`, ARGV_HINT);
    return;
  }
  v.forEach((arg: unknown, i) => {
    if (typeof arg !== "string") p.add(`${path}[${i}] must be a string`, ARGV_HINT);
    else if (arg === "") p.add(`${path}[${i}] must not be empty`);
  });
}

function stringRecord(v: unknown, path: string, p: Problems): void {
  if (v === undefined) return;
  if (!isObj(v)) {
    p.add(`${path} must be an object of strings`);
    return;
  }
  for (const [k, val] of Object.entries(v)) if (typeof val !== "string") p.add(`${join(path, k)} must be a string`);
}

function httpUrl(v: unknown, path: string, p: Problems): void {
  if (!string(v, path, p, true)) return;
  let ok = false;
  try {
    ok = ["http:", "https:"].includes(new URL(v).protocol);
  } catch {
    ok = false;
  }
  if (!ok) p.add(`${path} must be an absolute http:// or https:// URL`);
}

function command(v: unknown, path: string, p: Problems, extra: string[] = []): void {
  if (typeof v === "string" || Array.isArray(v)) {
    p.add(`${path} must be an object like {"command": ["./ctl.sh", "stop"]}`, ARGV_HINT);
    return;
  }
  const o = object(v, path, p, [...COMMAND_KEYS, ...extra]);
  if (!o) return;
  if (o.command === undefined) p.add(`${join(path, "command")} is required`, ARGV_HINT);
  else argv(o.command, join(path, "command"), p);
  if (o.cwd !== undefined) string(o.cwd, join(path, "cwd"), p);
  number(o.timeoutSeconds, join(path, "timeoutSeconds"), p);
  stringRecord(o.env, join(path, "env"), p);
}

function http(v: unknown, path: string, p: Problems): void {
  const o = object(v, path, p, HTTP_KEYS);
  if (!o) return;
  if (string(o.method, join(path, "method"), p) && !/^[A-Za-z]+$/.test(o.method)) {
    p.add(`${join(path, "method")} must be an HTTP method such as POST`);
  }
  httpUrl(o.url, join(path, "url"), p);
  stringRecord(o.headers, join(path, "headers"), p);
  number(o.timeoutSeconds, join(path, "timeoutSeconds"), p);
}

/** A command, or `{ http, ...httpExtra }` when the object has an `http` key. */
function commandOrHttp(v: unknown, path: string, p: Problems, httpExtra: string[]): void {
  if (isObj(v) && "http" in v) {
    if ("command" in v) {
      p.add(`${path} must have either "command" or "http", not both`);
      return;
    }
    const o = object(v, path, p, ["http", ...httpExtra]);
    if (!o) return;
    http(o.http, join(path, "http"), p);
    for (const key of httpExtra) number(o[key], join(path, key), p);
  } else {
    command(v, path, p);
  }
}

function url(v: unknown, path: string, p: Problems, required: boolean | string): void {
  if (!string(v, path, p, required)) return;
  try {
    parseDatabaseUrl(v, "/");
  } catch (err) {
    if (!isUpgradeError(err, "E_URL")) throw err;
    p.add(`${path}: ${err.summary}`, err.hint);
  }
}

function migrations(v: unknown, p: Problems): void {
  if (!isObj(v)) return void object(v, "migrations", p, []);
  if ("drizzle" in v && "command" in v) {
    p.add(`migrations must have either "drizzle" or "command", not both`);
    return;
  }
  if ("drizzle" in v) {
    const o = object(v, "migrations", p, ["drizzle", "lockTimeoutSeconds"]);
    string(o?.drizzle, "migrations.drizzle", p, true);
    number(o?.lockTimeoutSeconds, "migrations.lockTimeoutSeconds", p);
  } else if ("command" in v) {
    command(v, "migrations", p);
  } else {
    p.add(`migrations needs "drizzle" (a drizzle-kit folder) or "command" (an argv array)`, '{"drizzle": "./drizzle"}');
  }
}

function sections(c: Obj, p: Problems): void {
  if (c.migrations !== undefined) migrations(c.migrations, p);
  if (c.files !== undefined) {
    if (!Array.isArray(c.files)) p.add("files must be an array of paths");
    else
      c.files.forEach((f: unknown, i) => {
        string(f, `files[${i}]`, p, true);
      });
  }
  if (c.stateDir !== undefined) string(c.stateDir, "stateDir", p);
  if (c.journal !== undefined) url(c.journal, "journal", p, false);
  if (c.announce !== undefined) {
    const a = object(c.announce, "announce", p, ["command", "webhook", "withdraw", "graceSeconds", "timeoutSeconds"]);
    if (a?.command !== undefined) argv(a.command, "announce.command", p);
    if (a?.webhook !== undefined) http(a.webhook, "announce.webhook", p);
    if (a?.withdraw !== undefined) commandOrHttp(a.withdraw, "announce.withdraw", p, []);
    number(a?.graceSeconds, "announce.graceSeconds", p);
    number(a?.timeoutSeconds, "announce.timeoutSeconds", p);
  }
  if (c.service !== undefined) {
    const s = object(c.service, "service", p, ["stop", "start", "health"]);
    if (s?.stop !== undefined) commandOrHttp(s.stop, "service.stop", p, ["waitSeconds"]);
    if (s?.start !== undefined) {
      command(s.start, "service.start", p, ["settleSeconds"]);
      if (isObj(s.start)) number(s.start.settleSeconds, "service.start.settleSeconds", p);
    }
    if (s?.health !== undefined) {
      const h = object(s.health, "service.health", p, ["url", "timeoutSeconds", "expectStatus"]);
      if (h) httpUrl(h.url, "service.health.url", p);
      number(h?.timeoutSeconds, "service.health.timeoutSeconds", p);
      number(h?.expectStatus, "service.health.expectStatus", p, { integer: true, min: 100, max: 599 });
    }
  }
  if (c.package !== undefined) {
    const k = object(c.package, "package", p, ["version", "upgrade", "downgrade"]);
    for (const key of ["version", "upgrade", "downgrade"]) if (k?.[key] !== undefined) command(k[key], `package.${key}`, p);
  }
  if (c.verify !== undefined) {
    if (!Array.isArray(c.verify)) p.add('verify must be an array of commands, e.g. [{"command": ["./ctl.sh", "check"]}]', ARGV_HINT);
    else
      c.verify.forEach((v: unknown, i) => {
        command(v, `verify[${i}]`, p);
      });
  }
  if (c.backup !== undefined) {
    const b = object(c.backup, "backup", p, ["strategy", "toolsPath", "compress"]);
    if (b?.strategy !== undefined && b.strategy !== "dump" && b.strategy !== "template")
      p.add('backup.strategy must be "dump" or "template"');
    if (b?.toolsPath !== undefined) string(b.toolsPath, "backup.toolsPath", p);
    number(b?.compress, "backup.compress", p, { integer: true, min: 0, max: 9 });
  }
  stringRecord(c.env, "env", p);
  if (c.preset !== undefined) string(c.preset, "preset", p);
  if (c.presetOptions !== undefined) {
    if (c.preset === undefined) p.add("presetOptions is set by a preset's expansion: add \"preset\" with that preset's block instead");
    else if (!isObj(c.presetOptions)) p.add("presetOptions must be an object");
  }
}

/**
 * Validates a raw config (parsed JSON, or the default export of a `.ts` config) strictly: unknown
 * keys and wrong types are rejected. Every problem is collected and thrown together as one
 * `E_CONFIG` error whose `details.problems` lists each message (with its field path).
 */
export function validateConfig(raw: unknown): UpgradeConfig {
  const p = new Problems();
  // presetOptions is written by a preset's expansion, not by hand: accepted, never suggested
  const c = object(raw, "", p, isObj(raw) && "presetOptions" in raw ? [...TOP_KEYS, "presetOptions"] : TOP_KEYS);
  if (c) {
    if (string(c.name, "name", p, 'add "name": "my-service"') && !/^[A-Za-z0-9._-]+$/.test(c.name)) {
      p.add(`name ${JSON.stringify(c.name)} may only contain letters, digits, ".", "_" and "-"`);
    }
    url(c.database, "database", p, 'add "database": "sqlite:./data.sqlite" (or postgres://..., mysql://...)');
    sections(c, p);
  }
  if (p.list.length > 0) {
    const problems = p.list.map((x) => x.message);
    const hints = [...new Set(p.list.flatMap((x) => (x.hint ? [x.hint] : [])))];
    const message =
      problems.length === 1
        ? `invalid upgrade config: ${problems[0]}`
        : `invalid upgrade config (${problems.length} problems):\n${problems.map((m) => `  - ${m}`).join("\n")}`;
    throw new UpgradeError("E_CONFIG", message, { hint: hints.length > 0 ? hints.join("; ") : DEFAULT_HINT, details: { problems } });
  }
  return raw as UpgradeConfig;
}
