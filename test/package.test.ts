// The package as a consumer gets it: `npm pack`, installed into an empty project (from the npm
// cache, install scripts off: nothing here opens a SQLite database), used as ESM and CJS from
// every entry point, type-checked by a TypeScript consumer, linted by publint and attw, its bin run.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/example.js";

const exec = promisify(execFile);
const versionOf = (pkg: string) => JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version as string;
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

/** Each entry point and names it must export. */
const ENTRIES: Record<string, string[]> = {
  "upgrade-machine": ["upgrade", "resume", "status", "defineUpgrade", "validateConfig", "UpgradeError", "writeRunMetrics", "configSchema"],
  "upgrade-machine/machine": ["upgradeMachine", "STEP_NAMES"],
  "upgrade-machine/sqlite": ["createSqliteAdapter"],
  "upgrade-machine/postgres": ["createPostgresAdapter"],
  "upgrade-machine/mysql": ["createMysqlAdapter"],
  "upgrade-machine/testing": ["simulateRun", "faultScheduleArbitrary", "crashPointFromEnv", "SimulatedCrash", "startRun"],
};

const CONSUMER_TS = `import { upgrade, defineUpgrade, UpgradeError, type RunResult } from "upgrade-machine";
import { upgradeMachine } from "upgrade-machine/machine";
import { createSqliteAdapter } from "upgrade-machine/sqlite";
import { createPostgresAdapter } from "upgrade-machine/postgres";
import { createMysqlAdapter } from "upgrade-machine/mysql";
import { simulateRun, SimulatedCrash } from "upgrade-machine/testing";
const config = defineUpgrade({ name: "svc", database: "sqlite:./db.sqlite" });
const run = (c: typeof config): Promise<RunResult> => upgrade(c, { toVersion: "2.0.0" });
export const used = [run, UpgradeError, upgradeMachine, createSqliteAdapter, createPostgresAdapter, createMysqlAdapter, simulateRun, SimulatedCrash];
`;

const tsconfig = (resolution: "node16" | "bundler", files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      module: resolution === "node16" ? "node16" : "preserve",
      moduleResolution: resolution,
      target: "ES2022",
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      types: ["node"],
    },
    files,
  });

describe("the packed tarball, installed into an empty project", () => {
  let dir: string;
  let tarball: string;
  let consumer: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "um-se-package-"));
    const packed = await exec("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, maxBuffer: 1 << 26 });
    tarball = join(dir, JSON.parse(packed.stdout)[0].filename);
    consumer = join(dir, "consumer");
    await exec("mkdir", [consumer]);
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    const peers = ["mysql2", "postgres", "fast-check", "@types/node"].map((p) => `${p}@${versionOf(p)}`);
    await exec("npm", ["install", tarball, ...peers, "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: consumer,
      maxBuffer: 1 << 26,
    });
  }, 600_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const esm of [true, false]) {
    it(`${esm ? "ESM (import)" : "CJS (require)"}: every entry point loads and exports its API`, async () => {
      for (const [entry, names] of Object.entries(ENTRIES)) {
        const script = esm
          ? `const m = await import(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(m)));`
          : `process.stdout.write(JSON.stringify(Object.keys(require(${JSON.stringify(entry)}))));`;
        const { stdout } = await exec(process.execPath, esm ? ["--input-type=module", "-e", script] : ["-e", script], { cwd: consumer });
        const keys = JSON.parse(stdout) as string[];
        for (const name of names) expect(keys, `${entry} exports ${name}`).toContain(name);
      }
    });
  }

  it("keeps test doubles and crash hooks out of the root entry point", async () => {
    const { stdout } = await exec(
      process.execPath,
      ["-e", 'process.stdout.write(JSON.stringify(Object.keys(require("upgrade-machine"))))'],
      {
        cwd: consumer,
      },
    );
    const keys = JSON.parse(stdout) as string[];
    for (const internal of ["SimulatedCrash", "startRun", "resumeRun", "crashPointFromEnv", "simulateRun", "createMemoryJournal"]) {
      expect(keys).not.toContain(internal);
    }
  });

  for (const resolution of ["node16", "bundler"] as const) {
    it(`a TypeScript consumer type-checks under moduleResolution ${resolution}, skipLibCheck off`, async () => {
      writeFileSync(join(consumer, "use.mts"), CONSUMER_TS);
      writeFileSync(join(consumer, "use.cts"), CONSUMER_TS);
      const files = resolution === "node16" ? ["use.mts", "use.cts"] : ["use.mts"];
      writeFileSync(join(consumer, `tsconfig.${resolution}.json`), tsconfig(resolution, files));
      const r = await exec(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", `tsconfig.${resolution}.json`], {
        cwd: consumer,
      }).catch((err: { stdout: string; code: number }) => err);
      expect("code" in r ? r.stdout : "").toBe("");
    }, 240_000);
  }

  it("publint reports nothing", async () => {
    const { stdout } = await exec(bin("publint"), [tarball], { cwd: dir });
    expect(stdout).toContain("All good!");
  });

  it("@arethetypeswrong/cli reports nothing, node10 resolution included", async () => {
    const r = await exec(bin("attw"), [tarball], { cwd: dir }).catch((err: { stdout: string; code: number }) => err);
    expect("code" in r ? r.code : 0, r.stdout).toBe(0);
    expect(r.stdout).toContain("No problems found");
  }, 240_000);

  it("the installed bin runs: npx upgrade-machine --help", async () => {
    const { stdout } = await exec("npx", ["--no-install", "upgrade-machine", "--help"], { cwd: consumer });
    expect(stdout).toContain("upgrade-machine");
    expect(stdout).toContain("schema");
  });
});
