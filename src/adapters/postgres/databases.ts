import { createHash } from "node:crypto";
import { UpgradeError } from "../../errors.js";
import { setTimeout as sleep } from "node:timers/promises";
import { copyStrategyClause, localeClauses, type DatabaseLocale, type PgCatalog } from "./catalog.js";
import { quoteIdent, quoteLiteral, type PgSql } from "./connection.js";

/** What makes a database itself (not its content) what it is, copied onto a restored database. */
export interface DatabaseProps extends DatabaseLocale {
  owner: string;
  connlimit: number;
  /** null: the default privileges. */
  acl: { grantee: string | null; privilege: string; grantable: boolean }[] | null;
  /** `ALTER DATABASE ... SET` settings, as `name=value`. */
  settings: string[];
  comment: string | null;
}

const MAX_IDENT = 63;

/**
 * A database name derived from `database` (`<database>__um_<suffix>`), shortened with a hash
 * when it would exceed PostgreSQL's 63-byte identifier limit, so it never silently truncates.
 */
export function derivedName(database: string, suffix: string): string {
  const full = `${database}__um_${suffix}`;
  if (Buffer.byteLength(full) <= MAX_IDENT) return full;
  const tag = `__um_${createHash("sha256").update(full).digest("hex").slice(0, 12)}`;
  let head = database;
  while (Buffer.byteLength(head) + tag.length > MAX_IDENT) head = head.slice(0, -1);
  return head + tag;
}

/** The properties of `name` (the locale columns of the server's major), or undefined when it does not exist. */
export async function readDatabaseProps(admin: PgSql, name: string, catalog: PgCatalog): Promise<DatabaseProps | undefined> {
  const [row] = (await admin.unsafe(
    `SELECT pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, d.datctype AS ctype,
       ${catalog.localeColumns}, d.datconnlimit AS connlimit, d.datacl IS NOT NULL AS hasacl, shobj_description(d.oid, 'pg_database') AS comment
     FROM pg_database d WHERE d.datname = $1`,
    [name],
  )) as unknown as (DatabaseLocale & { owner: string; connlimit: number; hasacl: boolean; comment: string | null })[];
  if (!row) return undefined;
  const acl = row.hasacl
    ? await admin<{ grantee: string | null; privilege: string; grantable: boolean }[]>`
        SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
        FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = ${name}`
    : null;
  const settings = await admin<{ s: string }[]>`
    SELECT unnest(s.setconfig) AS s FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = ${name} AND s.setrole = 0`;
  const { hasacl: _hasacl, ...props } = row;
  return { ...props, acl: acl ? [...acl] : null, settings: settings.map((r) => r.s) };
}

/** True when the database exists. */
export async function databaseExists(admin: PgSql, name: string): Promise<boolean> {
  return (await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`).length > 0;
}

/** Drops `name` when it exists, disconnecting its sessions (`WITH (FORCE)`). */
export async function dropDatabase(admin: PgSql, name: string): Promise<void> {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/**
 * The `CREATE DATABASE` statement of `createDatabaseLike`: from `template0` with the locale of
 * `props` when `template` is not given, or a file copy of `template` (which carries its own
 * encoding and locale, provider included).
 */
export function createDatabaseStatement(catalog: PgCatalog, name: string, props: DatabaseProps | undefined, template?: string): string {
  const parts = [`CREATE DATABASE ${quoteIdent(name)}`];
  if (props) parts.push(`OWNER ${quoteIdent(props.owner)}`, `CONNECTION LIMIT ${props.connlimit}`);
  if (template === undefined) {
    parts.push("TEMPLATE template0");
    if (props) parts.push(...localeClauses(catalog, props));
  } else {
    parts.push(`TEMPLATE ${quoteIdent(template)}`, ...copyStrategyClause(catalog));
  }
  return parts.join(" ");
}

/**
 * Creates `name` with `props` (owner, locale, connection limit, privileges, settings, comment):
 * from `template0` when `template` is not given (an empty database for pg_restore), or as a file
 * copy of `template`.
 */
export async function createDatabaseLike(
  admin: PgSql,
  catalog: PgCatalog,
  name: string,
  props: DatabaseProps | undefined,
  template?: string,
): Promise<void> {
  const q = quoteIdent(name);
  await admin.unsafe(createDatabaseStatement(catalog, name, props, template));
  if (!props) return;
  if (props.acl) {
    await admin.unsafe(`REVOKE ALL ON DATABASE ${q} FROM PUBLIC, ${quoteIdent(props.owner)}`);
    for (const a of props.acl) {
      const who = a.grantee === null ? "PUBLIC" : quoteIdent(a.grantee);
      await admin.unsafe(`GRANT ${a.privilege} ON DATABASE ${q} TO ${who}${a.grantable ? " WITH GRANT OPTION" : ""}`);
    }
  }
  for (const setting of props.settings) {
    const eq = setting.indexOf("=");
    await admin.unsafe(`ALTER DATABASE ${q} SET ${quoteIdent(setting.slice(0, eq))} = ${quoteLiteral(setting.slice(eq + 1))}`);
  }
  if (props.comment !== null) await admin.unsafe(`COMMENT ON DATABASE ${q} IS ${quoteLiteral(props.comment)}`);
}

/**
 * Puts `replacement` in place of `database` atomically: new connections to `database` are
 * refused, its sessions ended, then both renames commit in one transaction (so the name always
 * resolves to a complete database), and the previous database is dropped.
 *
 * @throws UpgradeError E_BUSY when sessions keep reconnecting; `database` is then left as it was.
 */
export async function swapDatabase(admin: PgSql, database: string, replacement: string): Promise<void> {
  const old = derivedName(database, "old");
  await dropDatabase(admin, old);
  const exists = await databaseExists(admin, database);
  if (exists) await admin.unsafe(`ALTER DATABASE ${quoteIdent(database)} WITH ALLOW_CONNECTIONS false`);
  try {
    for (let attempt = 0; ; attempt++) {
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid()`;
      try {
        await admin.begin(async (tx) => {
          if (exists) await tx.unsafe(`ALTER DATABASE ${quoteIdent(database)} RENAME TO ${quoteIdent(old)}`);
          await tx.unsafe(`ALTER DATABASE ${quoteIdent(replacement)} RENAME TO ${quoteIdent(database)}`);
        });
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== "55006" || attempt >= 50) throw err;
        await sleep(100);
      }
    }
  } catch (err) {
    if (exists) await admin.unsafe(`ALTER DATABASE ${quoteIdent(database)} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
    if ((err as { code?: string }).code === "55006") {
      throw new UpgradeError("E_BUSY", `cannot replace database ${database}: other sessions keep connecting to it`, {
        hint: "stop every client of the database (the service, workers, cron jobs), then restore again",
        cause: err,
      });
    }
    throw err;
  }
  await dropDatabase(admin, old);
}
