import { readFile, stat } from "node:fs/promises";
import { dirname, extname, resolve } from "node:path";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { expandPreset } from "../presets/registry.js";
import { redactSecrets } from "../url.js";
import { resolveConfig } from "./resolve.js";
import type { ResolvedConfig } from "./types.js";
import { validateConfig } from "./validate.js";

const CODE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];
const LOAD_HINT = "the file must `export default defineUpgrade({ name, database, ... })` (or a function returning the config)";

function message(err: unknown): string {
  return redactSecrets(err instanceof Error ? err.message : String(err), []);
}

/**
 * Offset of the first syntax error in `text`, or -1 when none is found: V8's messages do not
 * always carry a position (`Unexpected token '}', "..." is not valid JSON`).
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i] ?? "")) i++;
  };
  const str = (): void => {
    for (i++; i < text.length; i++) {
      const ch = text[i] ?? "";
      if (ch === '"') return void i++;
      if (ch === "\\") i++;
      else if (ch < " ") fail();
    }
    fail();
  };
  const list = (close: string, item: () => void): void => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === close) return void i++;
      else fail();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      list("}", () => {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
      });
      return;
    }
    if (c === "[") {
      list("]", value);
      return;
    }
    if (c === '"') {
      str();
      return;
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fail();
    i += m?.[0].length ?? 0;
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (pos) {
    return typeof pos === "number" ? pos : -1;
  }
}

async function readJson(path: string): Promise<unknown> {
  const text = (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
  try {
    return JSON.parse(text);
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    const reason = raw.replace(/,\s*".*" is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, "");
    const stated = /at position (\d+)/.exec(raw);
    const offset = stated?.[1] !== undefined ? Number(stated[1]) : jsonErrorOffset(text);
    const before = text.slice(0, Math.max(0, offset));
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    const where = offset >= 0 ? ` at line ${line}, column ${column}` : "";
    throw new UpgradeError("E_CONFIG", `invalid JSON in config file ${path}${where}: ${redactSecrets(reason, [])}`, {
      hint: "fix the JSON syntax (double-quoted keys, no trailing commas, no comments), or write the config as a .ts file with defineUpgrade",
      details: { file: path, ...(offset >= 0 ? { line, column } : {}) },
    });
  }
}

async function importConfig(path: string): Promise<unknown> {
  const { createJiti } = await import("jiti");
  const jiti = createJiti(path, { moduleCache: false, fsCache: false });
  let ns: unknown;
  try {
    ns = await jiti.import(path);
  } catch (err) {
    throw new UpgradeError("E_CONFIG", `could not load config file ${path}: ${message(err)}`, { hint: LOAD_HINT, cause: err });
  }
  const hasDefault = (typeof ns === "object" || typeof ns === "function") && ns !== null && "default" in ns;
  if (!hasDefault) throw new UpgradeError("E_CONFIG", `config file ${path} has no default export`, { hint: LOAD_HINT });
  let value: unknown = (ns as { default: unknown }).default;
  try {
    if (typeof value === "function") value = await (value as () => unknown)();
    else value = await value;
  } catch (err) {
    throw new UpgradeError("E_CONFIG", `the config function of ${path} failed: ${message(err)}`, { hint: LOAD_HINT, cause: err });
  }
  if (value === undefined || value === null) {
    throw new UpgradeError("E_CONFIG", `config file ${path} exports no config (the default export is ${String(value)})`, {
      hint: LOAD_HINT,
    });
  }
  return value;
}

/**
 * Loads, validates and resolves an upgrade config file: `.json`, or `.ts`/`.mts`/`.cts`/`.js`/
 * `.mjs`/`.cjs` through jiti (the default export, or a function returning the config, awaited).
 * `file` is resolved against `cwd` (default: the process's); relative paths inside the config
 * are resolved against the file's directory. Throws `E_CONFIG`.
 */
export async function loadConfig(file: string, cwd: string = process.cwd()): Promise<ResolvedConfig> {
  const path = resolve(cwd, file);
  try {
    const st = await stat(path);
    if (!st.isFile())
      throw new UpgradeError("E_CONFIG", `config path is not a file: ${path}`, { hint: "pass the path of the config file itself" });
  } catch (err) {
    if (isUpgradeError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new UpgradeError("E_CONFIG", `config file not found: ${path}`, {
        hint: "pass the path of an existing config file (e.g. upgrade.config.ts or upgrade.json), relative to the current directory or absolute",
      });
    }
    throw new UpgradeError("E_CONFIG", `cannot read config file ${path}: ${message(err)}`, {
      hint: "check the file's permissions",
      cause: err,
    });
  }

  const ext = extname(path).toLowerCase();
  let raw: unknown;
  if (ext === ".json") raw = await readJson(path);
  else if (CODE_EXTENSIONS.includes(ext)) raw = await importConfig(path);
  else {
    throw new UpgradeError("E_CONFIG", `unsupported config file extension "${ext}": ${path}`, {
      hint: `use one of .json, ${CODE_EXTENSIONS.join(", ")}`,
    });
  }

  try {
    return resolveConfig(validateConfig(expandPreset(raw, dirname(path))), dirname(path), path);
  } catch (err) {
    if (!isUpgradeError(err, "E_CONFIG")) throw err;
    throw new UpgradeError("E_CONFIG", `${path}: ${err.summary}`, {
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      cause: err,
      ...(err.details !== undefined ? { details: { file: path, ...err.details } } : {}),
    });
  }
}
