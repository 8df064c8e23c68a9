import { isAbsolute, resolve } from "node:path";
import { UpgradeError, isUpgradeError } from "../../errors.js";
import { parseDatabaseUrl, redactUrl, type DatabaseTarget } from "../../url.js";

/** JupyterHub's database URL translated to upgrade-machine's form. */
export interface TranslatedDbUrl {
  /** An upgrade-machine database URL: `sqlite:/abs/path`, `postgres://...`, `mysql://...`. */
  url: string;
  target: DatabaseTarget;
  /** The SQLAlchemy URL named a relative SQLite path (resolved against the working directory). */
  relativeSqlite: boolean;
}

const FORMS =
  "sqlite:///relative/to/workingDir.sqlite, sqlite:////absolute/path.sqlite, postgresql://user@host/db " +
  "(also postgresql+psycopg2://), mysql+pymysql://user@host/db (also mysql://, mariadb+pymysql://)";

function invalid(dbUrl: string, problem: string): UpgradeError {
  return new UpgradeError("E_CONFIG", `invalid upgrade config: jupyterhub.dbUrl "${redactUrl(dbUrl)}": ${problem}`, {
    hint: `write JupyterHub's db_url as in jupyterhub_config.py: ${FORMS}`,
    details: { field: "jupyterhub.dbUrl", problems: [`jupyterhub.dbUrl: ${problem}`] },
  });
}

/**
 * Translates a SQLAlchemy URL as JupyterHub reads it (`c.JupyterHub.db_url`) into ours.
 * `sqlite:///name.sqlite` is relative to `workingDir` (JupyterHub opens it from the directory it
 * runs in), `sqlite:////abs` is absolute; a `+driver` suffix is dropped (`postgresql+psycopg2`,
 * `mysql+pymysql`). Throws `E_CONFIG` naming `jupyterhub.dbUrl`.
 */
export function translateDbUrl(dbUrl: string, workingDir: string): TranslatedDbUrl {
  const m = /^([A-Za-z][A-Za-z0-9]*)(?:\+[A-Za-z0-9_]+)?:(.*)$/s.exec(dbUrl.trim());
  if (!m || m[1] === undefined || m[2] === undefined) throw invalid(dbUrl, "no scheme");
  const dialect = m[1].toLowerCase();
  const rest = m[2];
  if (dialect === "sqlite") {
    if (!rest.startsWith("//")) throw invalid(dbUrl, 'a SQLAlchemy SQLite URL starts with "sqlite:///"');
    const path = (rest.slice(2).split("?")[0] ?? "").replace(/^\//, "");
    if (path === "" || path === ":memory:") throw invalid(dbUrl, "an in-memory database cannot be upgraded");
    const absolute = isAbsolute(path);
    const file = absolute ? resolve(path) : resolve(workingDir, path);
    return { url: `sqlite:${file}`, target: { dialect: "sqlite", path: file }, relativeSqlite: !absolute };
  }
  const scheme =
    dialect === "postgresql" || dialect === "postgres" ? "postgres" : dialect === "mysql" || dialect === "mariadb" ? "mysql" : null;
  if (!scheme) throw invalid(dbUrl, `unsupported database "${dialect}"`);
  if (!rest.startsWith("//")) throw invalid(dbUrl, `expected "${m[1]}://" followed by host and database`);
  const url = `${scheme}:${rest}`;
  try {
    return { url, target: parseDatabaseUrl(url, workingDir), relativeSqlite: false };
  } catch (err) {
    if (!isUpgradeError(err, "E_URL")) throw err;
    throw invalid(dbUrl, err.summary.replace(/^invalid database URL "[^"]*": /, ""));
  }
}
