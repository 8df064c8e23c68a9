import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { configSchema } from "../src/config/schema.js";
import { validateConfig } from "../src/config/validate.js";
import { expandPreset } from "../src/presets/registry.js";
import { BAD_INPUT_CONFIGS, BAD_SECONDS, type ConfigPatch } from "./fixtures/configs.js";
import { ROOT } from "./helpers/example.js";

const EXAMPLE = JSON.parse(readFileSync(join(ROOT, "examples/blog/upgrade.json"), "utf8"));
const base = { name: "x", database: "sqlite:x.db" };
const patched = (patch: ConfigPatch) => {
  const c = structuredClone(EXAMPLE);
  patch(c);
  return c;
};

/** Every seconds field of test/config.test.ts, with a value put into it. */
const SECONDS_FIELDS: ((v: unknown) => Record<string, unknown>)[] = [
  (v) => ({ package: { version: { command: ["v"], timeoutSeconds: v } } }),
  (v) => ({ verify: [{ command: ["check"], timeoutSeconds: v }] }),
  (v) => ({ migrations: { command: ["m"], timeoutSeconds: v } }),
  (v) => ({ migrations: { drizzle: "./d", lockTimeoutSeconds: v } }),
  (v) => ({ announce: { graceSeconds: v } }),
  (v) => ({ announce: { command: ["n"], timeoutSeconds: v } }),
  (v) => ({ announce: { webhook: { url: "http://h/a", timeoutSeconds: v } } }),
  (v) => ({ service: { stop: { http: { url: "http://h/stop" }, waitSeconds: v } } }),
  (v) => ({ service: { stop: { http: { url: "http://h/stop", timeoutSeconds: v } } } }),
  (v) => ({ service: { start: { command: ["s"], settleSeconds: v } } }),
  (v) => ({ service: { start: { command: ["s"], timeoutSeconds: v } } }),
  (v) => ({ service: { health: { url: "http://h/health", timeoutSeconds: v } } }),
];

/** Configs the examples and the test suite accept. */
const GOOD: [string, unknown][] = [
  ["examples/blog/upgrade.json", EXAMPLE],
  ["the example with $schema", { $schema: "./upgrade.schema.json", ...EXAMPLE }],
  [
    "an http stop (config.test)",
    { ...base, service: { stop: { http: { method: "POST", url: "https://svc/stop", headers: {}, body: {} }, waitSeconds: 5 } } },
  ],
  ["backup template (config.test)", { ...EXAMPLE, backup: { strategy: "template", toolsPath: "./bin:/usr/lib/postgresql/15/bin" } }],
  [
    "postgres, a custom journal, a command migration (config.test)",
    {
      name: "svc",
      database: "postgres://app:pw@db/svc",
      journal: "sqlite:../state/j.sqlite",
      migrations: { command: ["svc", "upgrade-db"], cwd: "app" },
      announce: { withdraw: { command: ["../bin/withdraw"] } },
    },
  ],
  ["mysql with a port", { ...base, database: "mysql://root@127.0.0.1:3306/app?ssl-mode=DISABLED" }],
  ["the tiny config of inspect.test", { name: "tiny", database: "sqlite:./db.sqlite", announce: { command: ["true"], graceSeconds: 1 } }],
  ...SECONDS_FIELDS.flatMap((put, i) =>
    [0, 0.5, 604_800].map((v): [string, unknown] => [`seconds field ${i} = ${v}`, { ...base, ...put(v) }]),
  ),
  [
    "a jupyterhub preset config (test/helpers/jupyterhub.ts)",
    {
      name: "hub",
      preset: "jupyterhub",
      env: { JUPYTERHUB_API_TOKEN: "x" },
      jupyterhub: {
        configFile: "./jupyterhub_config.py",
        dbUrl: "sqlite:///jupyterhub.sqlite",
        workingDir: ".",
        hubUrl: "http://127.0.0.1:8081",
        apiTokenEnv: "UM_HUB_TOKEN",
        start: { command: ["jupyterhub", "-f", "jupyterhub_config.py"] },
        pidFile: "jupyterhub.pid",
        healthTimeoutSeconds: 60,
      },
      package: { version: { command: ["jupyterhub", "--version"] } },
    },
  ],
];

/** Configs the test suite rejects. */
const BAD: [string, unknown][] = [
  ...Object.entries(BAD_INPUT_CONFIGS).map(([name, patch]): [string, unknown] => [`bad-input: ${name}`, patched(patch)]),
  ...BAD_SECONDS.map(([field, value, put]): [string, unknown] => [
    `hostile.commands: ${field} = ${JSON.stringify(value)}`,
    patched((c) => put(c, value)),
  ]),
  ...SECONDS_FIELDS.flatMap((put, i) =>
    [3_000_000, 604_801, -1, "10"].map((v): [string, unknown] => [
      `config.test seconds field ${i} = ${JSON.stringify(v)}`,
      { ...base, ...put(v) },
    ]),
  ),
  ["config.test: a bad backup", { ...EXAMPLE, backup: { strategy: "snapshot", compress: 12, tool: "x" } }],
  ["config.test: a nested unknown key", { ...base, service: { stp: {} } }],
  ["config.test: an argv with a number", { ...base, service: { stop: { command: ["./ctl.sh", 1] } } }],
  ["config.test: no name", { database: "sqlite:x.db" }],
  ["config.test: empty", {}],
  ["config.test: not an object", "name: x"],
  ["config.test: a bad name", { ...base, name: "bad name!" }],
  ["config.test: a postgres URL without database", { ...base, database: "postgres://app:s3cret@db/" }],
  ["config.test: drizzle and command", { ...base, migrations: { drizzle: "./d", command: ["x"] } }],
  ["config.test: a webhook that is not a URL", { ...base, announce: { webhook: { url: "not a url" } } }],
  ["config.test: an empty start command", { ...base, service: { start: { command: [] } } }],
  ["config.test: expectStatus 99", { ...base, service: { health: { url: "http://h/health", expectStatus: 99 } } }],
  ["config.test: package.upgrade as an argv", { ...base, package: { upgrade: ["npm", "i"] } }],
  ["config.test: a cwd that is a number", { ...base, verify: [{ command: ["ok"], cwd: 3 }] }],
  ["config.test: env of numbers", { ...base, verify: [{ command: ["ok"], env: { A: 1 } }] }],
  ["config.test: env as a string", { ...base, env: "A=1" }],
  ["an in-memory sqlite database", { ...base, database: "sqlite::memory:" }],
  ["a sqlite URL with a host", { ...base, database: "sqlite://host/x.db" }],
  ["an unknown scheme", { ...base, database: "oracle://db/x" }],
  ["a preset's block without preset", { ...base, jupyterhub: {} }],
  ["$schema that is not a string", { ...base, $schema: 3 }],
];

const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
const schemaValid = ajv.compile(configSchema());

function validatorAccepts(config: unknown): boolean {
  try {
    validateConfig(expandPreset(config, "/srv/app"));
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== "E_CONFIG") throw err;
    return false;
  }
}

describe("the config's JSON Schema agrees with the validator", () => {
  it("is draft 2020-12 and compiles under ajv's strict mode", () => {
    expect(configSchema().$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  it.each(GOOD)("accepts %s, as the validator does", (_name, config) => {
    expect(validatorAccepts(config)).toBe(true);
    expect(schemaValid(config), JSON.stringify(schemaValid.errors)).toBe(true);
  });

  it.each(BAD)("rejects %s, as the validator does", (_name, config) => {
    expect(validatorAccepts(config)).toBe(false);
    expect(schemaValid(config)).toBe(false);
  });
});

describe("upgrade-machine schema", () => {
  it("prints the schema as JSON, without reading a config", async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {}, cwd: "/" };
    expect(await main(["schema"], io)).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual(configSchema());
  });
});
