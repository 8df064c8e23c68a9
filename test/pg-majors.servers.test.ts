// The PostgreSQL major matrix is really there: each server answers and is the major it claims
// (a server that could not start fails here with its reason when CI is set, and is skipped
// loudly otherwise), and the catalog differences the adapter relies on are what it expects.
import { describe, expect, it } from "vitest";
import { pgMajors } from "./helpers/pg-majors.js";
import { querySql } from "./helpers/servers.js";

const majors = await pgMajors();

describe("PostgreSQL major matrix", () => {
  it("covers 14 to 18", () => {
    expect(majors.map((m) => m.major)).toEqual([14, 15, 16, 17, 18]);
  });
  for (const m of majors) {
    it.skipIf(!m.available)(`PostgreSQL ${m.major} answers with its own major`, async () => {
      expect(m.missing, `PostgreSQL ${m.major} is missing: ${m.missing}`).toBeNull();
      const [row] = await querySql<{ v: string }>("postgres", m.adminUrl, ["SELECT current_setting('server_version_num') AS v"]);
      expect(Math.floor(Number(row?.v) / 10_000)).toBe(m.major);
      const columns = (
        await querySql<{ c: string }>("postgres", m.adminUrl, [
          `SELECT attname AS c FROM pg_attribute WHERE attrelid = 'pg_database'::regclass AND attnum > 0`,
        ])
      ).map((r) => r.c);
      // the catalog differences of issue 10, measured: datlocprovider from 15, daticulocale renamed datlocale in 17
      expect(columns.includes("datlocprovider")).toBe(m.major >= 15);
      expect(columns.includes("daticulocale")).toBe(m.major === 15 || m.major === 16);
      expect(columns.includes("datlocale")).toBe(m.major >= 17);
      expect(columns.includes("daticurules")).toBe(m.major >= 16);
    });
  }
});
