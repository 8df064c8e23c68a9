import { quoteLiteral } from "./connection.js";

/**
 * What differs between the PostgreSQL majors the adapter supports (14 to 18), chosen from the
 * server's `server_version_num` here and nowhere else:
 *
 * | | 14 | 15 | 16 | 17, 18 |
 * | --- | --- | --- | --- | --- |
 * | `pg_database.datlocprovider` (`c` libc, `i` ICU, `b` builtin) | - | yes | yes | yes, `b` new |
 * | ICU / builtin locale column | - | `daticulocale` | `daticulocale` | `datlocale` |
 * | `pg_database.daticurules` / `ICU_RULES` | - | - | yes | yes |
 * | `CREATE DATABASE ... STRATEGY` | - | yes | yes | yes |
 */
export interface PgCatalog {
  /** `server_version_num`, e.g. 180004. */
  readonly versionNum: number;
  /** The major version: 14, 15, ... (9.6 for 90624). */
  readonly major: number;
  /**
   * Select-list expressions over `pg_database d` giving `provider`, `locale` (the ICU or builtin
   * locale) and `icurules`, each NULL-safe for majors without the column.
   */
  readonly localeColumns: string;
  /** True when `CREATE DATABASE ... STRATEGY FILE_COPY | WAL_LOG` exists (15+). */
  readonly hasStrategy: boolean;
}

/** The major version of a `server_version_num` (150020 -> 15, 90624 -> 9.6). */
export function serverMajor(versionNum: number): number {
  return versionNum >= 100_000
    ? Math.floor(versionNum / 10_000)
    : Math.floor(versionNum / 10_000) + Math.floor((versionNum % 10_000) / 100) / 10;
}

/** The catalog differences of the server whose `server_version_num` is `versionNum`. */
export function pgCatalog(versionNum: number): PgCatalog {
  const provider = versionNum >= 150000 ? "d.datlocprovider::text" : "'c'::text";
  const locale = versionNum >= 170000 ? "d.datlocale" : versionNum >= 150000 ? "d.daticulocale" : "NULL::text";
  const icurules = versionNum >= 160000 ? "d.daticurules" : "NULL::text";
  return {
    versionNum,
    major: serverMajor(versionNum),
    localeColumns: `${provider} AS provider, ${locale} AS locale, ${icurules} AS icurules`,
    hasStrategy: versionNum >= 150000,
  };
}

/** The locale of a database, as `pg_database` holds it. */
export interface DatabaseLocale {
  encoding: string;
  collate: string;
  ctype: string;
  /** `c` (libc), `i` (ICU, 15+) or `b` (builtin, 17+). */
  provider: string;
  /** The ICU locale (provider `i`) or the builtin locale (provider `b`); null for libc. */
  locale: string | null;
  /** ICU tailoring rules (16+), or null. */
  icurules: string | null;
}

/**
 * The clauses of `CREATE DATABASE ... TEMPLATE template0` that give a new database exactly the
 * locale of another: encoding, LC_COLLATE and LC_CTYPE always; on 15+ the provider, stated even
 * when it is libc (template0 itself may use ICU); the ICU locale and rules, or the builtin locale.
 */
export function localeClauses(catalog: PgCatalog, locale: DatabaseLocale): string[] {
  const parts = [
    `ENCODING ${quoteLiteral(locale.encoding)}`,
    `LC_COLLATE ${quoteLiteral(locale.collate)}`,
    `LC_CTYPE ${quoteLiteral(locale.ctype)}`,
  ];
  if (catalog.versionNum < 150000) return parts;
  if (locale.provider === "i") {
    parts.push("LOCALE_PROVIDER icu");
    if (locale.locale !== null) parts.push(`ICU_LOCALE ${quoteLiteral(locale.locale)}`);
    if (locale.icurules !== null && catalog.versionNum >= 160000) parts.push(`ICU_RULES ${quoteLiteral(locale.icurules)}`);
  } else if (locale.provider === "b") {
    parts.push("LOCALE_PROVIDER builtin");
    if (locale.locale !== null) parts.push(`BUILTIN_LOCALE ${quoteLiteral(locale.locale)}`);
  } else {
    parts.push("LOCALE_PROVIDER libc");
  }
  return parts;
}

/**
 * The clause of `CREATE DATABASE ... TEMPLATE <db>` for a copy: `STRATEGY FILE_COPY` where the
 * server has strategies (15+; a file-level copy, about twice as fast as the default WAL_LOG on
 * the same data: `npm run bench:pg-majors`); before 15 every template copy is a file copy.
 */
export function copyStrategyClause(catalog: PgCatalog, strategy: "FILE_COPY" | "WAL_LOG" = "FILE_COPY"): string[] {
  return catalog.hasStrategy ? [`STRATEGY ${strategy}`] : [];
}
