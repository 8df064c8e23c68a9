import { join, resolve } from "node:path";
import { UpgradeError, isUpgradeError } from "../errors.js";
import { absoluteUrl, parseDatabaseUrl, targetId } from "../url.js";
import type { DatabaseTarget } from "../url.js";
import type { CommandSpec, ResolvedCommandSpec, ResolvedConfig, ResolvedMigrations, UpgradeConfig } from "./types.js";

/** Parses a URL field, reporting `E_URL` as `E_CONFIG` naming the field (the password stays redacted). */
function parseField(field: "database" | "journal", url: string, baseDir: string): DatabaseTarget {
  try {
    return parseDatabaseUrl(url, baseDir);
  } catch (err) {
    if (!isUpgradeError(err, "E_URL")) throw err;
    throw new UpgradeError("E_CONFIG", `invalid upgrade config: ${field}: ${err.summary}`, {
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      cause: err,
      details: { field, problems: [`${field}: ${err.summary}`] },
    });
  }
}

/** An argv whose program starts with `./` or `../` gets an absolute program path (relative to `baseDir`). */
function resolveArgv(argv: string[], baseDir: string): string[] {
  const [program, ...args] = argv;
  if (program === undefined) return [];
  return /^\.\.?\//.test(program) ? [resolve(baseDir, program), ...args] : [program, ...args];
}

function resolveCommand<T extends CommandSpec>(spec: T, baseDir: string): T & ResolvedCommandSpec {
  return {
    ...spec,
    command: resolveArgv(spec.command, baseDir),
    cwd: spec.cwd !== undefined ? resolve(baseDir, spec.cwd) : baseDir,
  };
}

/**
 * Applies defaults and makes every path of a validated config absolute: relative paths (and
 * `./`/`../` programs) are taken relative to `baseDir`; `cwd` defaults to `baseDir`; the journal
 * defaults to `sqlite:<stateDir>/journal.sqlite`. Pure: touches no file. Throws `E_CONFIG`
 * for a bad `database` or `journal` URL, or a journal that is the database itself.
 */
export function resolveConfig(config: UpgradeConfig, baseDir: string, configPath: string | null): ResolvedConfig {
  const base = resolve(baseDir);
  const cmd = <T extends CommandSpec>(spec: T): T & ResolvedCommandSpec => resolveCommand(spec, base);
  const target = parseField("database", config.database, base);
  const stateDir = resolve(base, config.stateDir ?? ".upgrade");
  const journalTarget: DatabaseTarget =
    config.journal !== undefined
      ? parseField("journal", config.journal, base)
      : { dialect: "sqlite", path: join(stateDir, "journal.sqlite") };
  const journal = absoluteUrl(journalTarget, config.journal ?? "");
  if (targetId(journalTarget) === targetId(target)) {
    throw new UpgradeError("E_CONFIG", "invalid upgrade config: journal: the journal must not be the database being upgraded", {
      hint: "remove `journal` to use the default sqlite:<stateDir>/journal.sqlite, or name another database",
      details: { field: "journal", problems: ["journal: the journal must not be the database being upgraded"] },
    });
  }

  let migrations: ResolvedMigrations | undefined;
  const m = config.migrations;
  if (m !== undefined) migrations = "drizzle" in m ? { ...m, drizzle: resolve(base, m.drizzle) } : cmd(m);

  let announce: ResolvedConfig["announce"];
  if (config.announce !== undefined) {
    const { command, withdraw, ...rest } = config.announce;
    announce = {
      ...rest,
      ...(command !== undefined ? { command: resolveArgv(command, base) } : {}),
      ...(withdraw !== undefined ? { withdraw: "http" in withdraw ? { ...withdraw } : cmd(withdraw) } : {}),
    };
  }

  const s = config.service;
  const service: ResolvedConfig["service"] =
    s === undefined
      ? undefined
      : {
          ...(s.stop !== undefined ? { stop: "http" in s.stop ? { ...s.stop } : cmd(s.stop) } : {}),
          ...(s.start !== undefined ? { start: cmd(s.start) } : {}),
          ...(s.health !== undefined ? { health: { ...s.health } } : {}),
        };

  const k = config.package;
  const pkg: ResolvedConfig["package"] =
    k === undefined
      ? undefined
      : {
          ...(k.version !== undefined ? { version: cmd(k.version) } : {}),
          ...(k.upgrade !== undefined ? { upgrade: cmd(k.upgrade) } : {}),
          ...(k.downgrade !== undefined ? { downgrade: cmd(k.downgrade) } : {}),
        };

  return {
    configPath: configPath === null ? null : resolve(base, configPath),
    baseDir: base,
    name: config.name,
    database: config.database,
    target,
    backup: {
      ...config.backup,
      ...(config.backup?.toolsPath !== undefined
        ? {
            toolsPath: config.backup.toolsPath
              .split(":")
              .map((d) => resolve(base, d))
              .join(":"),
          }
        : {}),
    },
    ...(migrations !== undefined ? { migrations } : {}),
    files: (config.files ?? []).map((f) => resolve(base, f)),
    rehearse: typeof config.rehearse === "object" ? cmd(config.rehearse) : (config.rehearse ?? true),
    stateDir,
    journal,
    journalTarget,
    ...(config.lint !== undefined ? { lint: config.lint === false ? false : { ...config.lint } } : {}),
    ...(announce !== undefined ? { announce } : {}),
    ...(service !== undefined ? { service } : {}),
    ...(pkg !== undefined ? { package: pkg } : {}),
    verify: (config.verify ?? []).map(cmd),
    env: { ...config.env },
    ...(config.preset !== undefined ? { preset: config.preset } : {}),
    ...(config.presetOptions !== undefined ? { presetOptions: structuredClone(config.presetOptions) } : {}),
  };
}
