// The fleet file: strict validation (unknown keys, types, ranges, each with E_CONFIG and a hint),
// targets globbed relative to the fleet file in sorted order (the first entry's first match is
// the canary), the waves planned from sizes and percentages, a `.ts` fleet through defineFleet,
// and a journal that is not PostgreSQL refused before anything is touched.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUpgradeError, loadFleet, planWaves, rollout } from "../src/index.js";
import { removeDir, tempDir, writeFleet } from "./helpers/fleet.js";

const JOURNAL = "postgres://postgres@127.0.0.1:5432/um_fleet_never";
let dir: string;

beforeAll(() => {
  dir = tempDir("file");
  for (const name of ["c", "a", "b", "d", "e", "f", "g", "h"]) {
    mkdirSync(join(dir, "hubs", name), { recursive: true });
    writeFileSync(join(dir, "hubs", name, "upgrade.json"), JSON.stringify({ name, database: "sqlite:./db.sqlite" }));
  }
  mkdirSync(join(dir, "hubs", ".hidden"), { recursive: true });
  writeFileSync(join(dir, "hubs", ".hidden", "upgrade.json"), "{}");
});
afterAll(() => removeDir(dir));

async function problemsOf(fleet: unknown): Promise<string[]> {
  try {
    await loadFleet(writeFleet(dir, fleet as Record<string, unknown>, "bad.json"));
  } catch (err) {
    if (!isUpgradeError(err, "E_CONFIG")) throw err;
    expect(err.hint).toBeTruthy();
    return [err.message];
  }
  return [];
}

describe("the fleet file", () => {
  it("finds the targets by glob, in sorted order, hidden folders left out; waves from sizes and percentages", async () => {
    const fleet = await loadFleet(
      writeFleet(dir, {
        name: "hubs",
        journal: JOURNAL,
        targets: ["./hubs/*/upgrade.json"],
        waves: [{ size: 1 }, { percent: 25 }, { rest: true }],
        failureThreshold: "50%",
      }),
    );
    expect(fleet.targets.map((t) => t.name)).toEqual(["hubs/a", "hubs/b", "hubs/c", "hubs/d", "hubs/e", "hubs/f", "hubs/g", "hubs/h"]);
    expect(fleet.targets[0]!.config).toBe(join(dir, "hubs", "a", "upgrade.json"));
    expect(planWaves(fleet)).toEqual([
      { targets: ["hubs/a"], threshold: 0 },
      { targets: ["hubs/b", "hubs/c"], threshold: 1 },
      { targets: ["hubs/d", "hubs/e", "hubs/f", "hubs/g", "hubs/h"], threshold: 2 },
    ]);
    const canaryFirst = await loadFleet(
      writeFleet(dir, { name: "hubs", journal: JOURNAL, targets: ["./hubs/g/upgrade.json", "./hubs/**/upgrade.json"] }),
    );
    expect(canaryFirst.targets.map((t) => t.name).slice(0, 3)).toEqual(["hubs/g", "hubs/a", "hubs/b"]);
    expect(canaryFirst.targets).toHaveLength(8);
    expect(canaryFirst.maxParallel).toBe(1);
    expect(canaryFirst.failureThreshold).toEqual({ count: 0 });
  });

  it("loads a .ts fleet written with defineFleet", async () => {
    const file = join(dir, "fleet.ts");
    writeFileSync(
      file,
      `import { defineFleet } from ${JSON.stringify(join(import.meta.dirname, "../src/fleet/define.js"))};\nexport default defineFleet({ name: "ts", journal: ${JSON.stringify(JOURNAL)}, targets: ["./hubs/?/upgrade.json"], maxParallel: 3 });\n`,
    );
    const fleet = await loadFleet(file);
    expect([fleet.name, fleet.maxParallel, fleet.targets.length]).toEqual(["ts", 3, 8]);
  });

  it.each([
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], maxParalel: 2 }, /unknown key "maxParalel"/],
    [{ name: "x", journal: JOURNAL, targets: [] }, /targets must be a non-empty array/],
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], waves: [{ rest: true }, { size: 1 }] }, /must be the last wave/],
    [
      { name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], waves: [{ size: 1, percent: 5 }] },
      /exactly one of size, percent, rest/,
    ],
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], waves: [{ size: 2 }] }, /the waves take 2 of the 8 targets/],
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], failureThreshold: "120%" }, /failureThreshold/],
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], failureThreshold: -1 }, /failureThreshold/],
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], maxParallel: 0 }, /maxParallel must be an integer from 1 to 256/],
    [{ name: "x", journal: JOURNAL, targets: ["./hubs/*/upgrade.json"], leaseSeconds: 1 }, /leaseSeconds/],
    [{ name: "x", journal: JOURNAL, targets: ["./nothing/*.json"] }, /matches no file/],
    [{ name: "x y", journal: "nope", targets: ["./hubs/*/upgrade.json"], approve: "yes" }, /3 problems/],
  ])("refuses %j with E_CONFIG and a hint", async (fleet, message) => {
    const problems = await problemsOf(fleet);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it("refuses a journal that is not PostgreSQL before anything is journaled or touched", async () => {
    const file = writeFleet(dir, { name: "x", journal: "sqlite:./journal.sqlite", targets: ["./hubs/a/upgrade.json"] }, "sqlite.json");
    const err = await rollout(file, { toVersion: "2.0.0" }).catch((e: unknown) => e);
    expect(isUpgradeError(err, "E_CONFIG") && err.message).toMatch(/must be a PostgreSQL database/);
    expect(existsSync(join(dir, "journal.sqlite"))).toBe(false);
  });
});
