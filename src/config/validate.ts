import { UpgradeError, isUpgradeError } from "../errors.js";
import { parseDatabaseUrl } from "../url.js";
import {
  ANNOUNCE_SHAPE,
  BACKUP_SHAPE,
  COMMAND_KEYS,
  CONFIG_KEYS,
  DRIZZLE_KEYS,
  HTTP_SHAPE,
  keysOf,
  MAX_SECONDS,
  NAME_PATTERN,
  LINT_SHAPE,
  PACKAGE_SHAPE,
  SERVICE_SHAPE,
} from "./shape.js";
import type { UpgradeConfig } from "./types.js";
import { distance } from "./distance.js";

type Obj = Record<string, unknown>;

const ARGV_HINT = 'commands are argv arrays, e.g. ["./ctl.sh", "stop"]';
const DEFAULT_HINT = "fix the fields listed above; every field is documented on UpgradeConfig (src/config/types.ts)";
const TOP_KEYS = Object.keys(CONFIG_KEYS);
const COMMAND_KEY_NAMES = Object.keys(COMMAND_KEYS);
const HTTP_KEYS = keysOf(HTTP_SHAPE);

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
  const o = object(v, path, p, [...COMMAND_KEY_NAMES, ...extra]);
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
    const o = object(v, "migrations", p, Object.keys(DRIZZLE_KEYS));
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
  if (c.rehearse !== undefined && typeof c.rehearse !== "boolean") {
    if (isObj(c.rehearse)) command(c.rehearse, "rehearse", p);
    else p.add('rehearse must be true, false or {"command": [...]}', '"rehearse": false turns the rehearsal off');
  }
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
    const a = object(c.announce, "announce", p, keysOf(ANNOUNCE_SHAPE));
    if (a?.command !== undefined) argv(a.command, "announce.command", p);
    if (a?.webhook !== undefined) http(a.webhook, "announce.webhook", p);
    if (a?.withdraw !== undefined) commandOrHttp(a.withdraw, "announce.withdraw", p, []);
    number(a?.graceSeconds, "announce.graceSeconds", p);
    number(a?.timeoutSeconds, "announce.timeoutSeconds", p);
  }
  if (c.service !== undefined) {
    const s = object(c.service, "service", p, keysOf(SERVICE_SHAPE));
    if (s?.stop !== undefined) commandOrHttp(s.stop, "service.stop", p, ["waitSeconds"]);
    if (s?.start !== undefined) {
      command(s.start, "service.start", p, ["settleSeconds"]);
      if (isObj(s.start)) number(s.start.settleSeconds, "service.start.settleSeconds", p);
    }
    if (s?.health !== undefined) {
      const h = object(s.health, "service.health", p, keysOf(SERVICE_SHAPE.keys.health));
      if (h) httpUrl(h.url, "service.health.url", p);
      number(h?.timeoutSeconds, "service.health.timeoutSeconds", p);
      number(h?.expectStatus, "service.health.expectStatus", p, { integer: true, min: 100, max: 599 });
    }
  }
  if (c.package !== undefined) {
    const k = object(c.package, "package", p, keysOf(PACKAGE_SHAPE));
    for (const key of keysOf(PACKAGE_SHAPE)) if (k?.[key] !== undefined) command(k[key], `package.${key}`, p);
  }
  if (c.verify !== undefined) {
    if (!Array.isArray(c.verify)) p.add('verify must be an array of commands, e.g. [{"command": ["./ctl.sh", "check"]}]', ARGV_HINT);
    else
      c.verify.forEach((v: unknown, i) => {
        command(v, `verify[${i}]`, p);
      });
  }
  if (c.lint !== undefined && c.lint !== false) {
    const l = object(c.lint, "lint", p, keysOf(LINT_SHAPE));
    if (l?.destructive !== undefined && !LINT_SHAPE.keys.destructive.enum.includes(l.destructive as never))
      p.add('lint.destructive must be "refuse" or "allow"');
    number(l?.largeTableBytes, "lint.largeTableBytes", p, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
    if (l === undefined) p.add('lint must be false or an object such as {"destructive": "allow"}');
  }
  if (c.backup !== undefined) {
    const b = object(c.backup, "backup", p, keysOf(BACKUP_SHAPE));
    if (b?.strategy !== undefined && !BACKUP_SHAPE.keys.strategy.enum.includes(b.strategy as never))
      p.add('backup.strategy must be "dump" or "template"');
    if (b?.toolsPath !== undefined) string(b.toolsPath, "backup.toolsPath", p);
    number(b?.compress, "backup.compress", p, { integer: true, min: 0, max: 9 });
  }
  stringRecord(c.env, "env", p);
  if (c.preset !== undefined) string(c.preset, "preset", p);
  if (c.$schema !== undefined) string(c.$schema, "$schema", p);
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
  // "$schema" is for editors, presetOptions is written by a preset's expansion: accepted, never suggested
  const quiet = isObj(raw) ? ["$schema", "presetOptions"].filter((k) => k in raw) : [];
  const c = object(raw, "", p, [...TOP_KEYS, ...quiet]);
  if (c) {
    if (string(c.name, "name", p, 'add "name": "my-service"') && !new RegExp(NAME_PATTERN).test(c.name)) {
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
