// Locale settings survive on every PostgreSQL major: a database created with each locale provider
// the major has (libc with a non-default locale; ICU on 15+, with tailoring rules on 16+; builtin
// on 17+) is recreated from template0 by the adapter's statement with the same settings; and one
// with each non-default provider (libc's C locale on 14) is upgraded with a failing migration and
// rolled back through the real CLI, with template restore points (a template copy) and, where this machine's pg_dump 15
// serves the server, pg_dump ones (a database recreated from template0). Its pg_database row is
// read with SQL written here per major, not by the adapter's own query.
import { describe, expect, it } from "vitest";
import { createDatabaseStatement, openPg, pgCatalog, readDatabaseProps } from "../src/adapters/postgres/index.js";
import { parseDatabaseUrl } from "../src/url.js";
import { prepare } from "./helpers/crash-server.js";
import { runCli } from "./helpers/example.js";
import { pgMajors, type PgMajor } from "./helpers/pg-majors.js";
import { createScratchDatabase, execSql, querySql } from "./helpers/servers.js";

interface Provider {
  name: string;
  /** Appended to CREATE DATABASE. */
  create: string;
  /** The pg_database values that must survive. */
  expected: Record<string, string | null>;
}

function providers(major: number): Provider[] {
  const libc: Provider = {
    name: "libc, C locale",
    create: "TEMPLATE template0 LOCALE 'C'",
    expected: { collate: "C", ctype: "C", ...(major >= 15 ? { provider: "c" } : {}) },
  };
  const icu: Provider = {
    name: major >= 16 ? "ICU de-DE with tailoring rules" : "ICU de-DE",
    create: `TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE'${major >= 16 ? " ICU_RULES '&a < g'" : ""}`,
    expected: { provider: "i", locale: "de-DE", ...(major >= 16 ? { icurules: "&a < g" } : {}) },
  };
  const builtin: Provider = {
    name: "builtin C.UTF-8",
    create: "TEMPLATE template0 LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'",
    expected: { provider: "b", locale: "C.UTF-8" },
  };
  return major >= 17 ? [libc, icu, builtin] : major >= 15 ? [libc, icu] : [libc];
}

/** The locale columns of pg_database for `name`, by this major's own column names. */
async function localeRow(m: PgMajor, name: string): Promise<Record<string, string | null>> {
  const cols =
    m.major >= 17
      ? "datlocprovider::text AS provider, datlocale AS locale, daticurules AS icurules"
      : m.major === 16
        ? "datlocprovider::text AS provider, daticulocale AS locale, daticurules AS icurules"
        : m.major === 15
          ? "datlocprovider::text AS provider, daticulocale AS locale"
          : "NULL AS provider";
  const [row] = await querySql<Record<string, string | null>>("postgres", m.adminUrl, [
    `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype, ${cols} FROM pg_database WHERE datname = '${name}'`,
  ]);
  if (!row) throw new Error(`no database ${name}`);
  return row;
}

const majors = await pgMajors();

for (const m of majors) {
  describe.skipIf(!m.available)(`PostgreSQL ${m.major}: locale providers`, () => {
    for (const p of providers(m.major)) {
      it(`a database created with ${p.name} is recreated from template0 with the same locale`, async () => {
        const db = await createScratchDatabase("postgres", "um_locale", m.adminUrl, p.create);
        const copy = `${db.name}__um_recreated`;
        try {
          const [v] = await querySql<{ v: string }>("postgres", m.adminUrl, ["SELECT current_setting('server_version_num') AS v"]);
          const catalog = pgCatalog(Number(v?.v));
          const sql = await openPg(parseDatabaseUrl(m.adminUrl, "/") as never, 1);
          try {
            const props = await readDatabaseProps(sql, db.name, catalog);
            await sql.unsafe(createDatabaseStatement(catalog, copy, props));
          } finally {
            await sql.end({ timeout: 1 });
          }
          const original = await localeRow(m, db.name);
          expect(original).toMatchObject(p.expected);
          expect(await localeRow(m, copy)).toEqual(original);
        } finally {
          await execSql("postgres", m.adminUrl, [`DROP DATABASE IF EXISTS "${copy}"`]);
          await db.drop();
        }
      });

      // The rollback: with the non-default providers (libc on 15+ is the recreate test above's only).
      if (m.major >= 15 && p.expected.provider === "c") continue;
      for (const strategy of m.dumpTools ? (["template", "dump"] as const) : (["template"] as const)) {
        it(`a rollback (${strategy} restore points) of a database created with ${p.name} keeps its locale`, async () => {
          const setup = await prepare("postgres", false, true, { strategy }, { adminUrl: m.adminUrl, createOptions: p.create });
          try {
            const before = await localeRow(m, setup.database.name);
            expect(before).toMatchObject(p.expected);
            const fingerprint = await setup.fingerprint();
            const run = await runCli(["run", "--config", setup.config, "--json"]);
            expect(run.code, run.stdout + run.stderr).toBe(1);
            expect(JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}").state).toBe("rolledBack");
            expect(await localeRow(m, setup.database.name)).toEqual(before);
            expect(await setup.fingerprint()).toBe(fingerprint);
          } finally {
            await setup.cleanup();
          }
        });
      }
    }
  });
}
