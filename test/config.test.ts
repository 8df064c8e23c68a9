import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpgradeError } from "../src/errors.js";
import { defineUpgrade, loadConfig, resolveConfig, validateConfig } from "../src/config/index.js";

const EXAMPLE = {
  name: "blog",
  database: "sqlite:./data/blog.sqlite",
  migrations: { drizzle: "./drizzle" },
  files: ["./blog.config.json"],
  stateDir: "./.upgrade",
  announce: { command: ["./notify.sh", "{toVersion}"], graceSeconds: 0 },
  service: {
    stop: { command: ["./ctl.sh", "stop"] },
    start: { command: ["./ctl.sh", "start"] },
    health: { url: "http://127.0.0.1:4000/health", timeoutSeconds: 30 },
  },
  package: {
    version: { command: ["./ctl.sh", "version"] },
    upgrade: { command: ["./ctl.sh", "install", "{toVersion}"] },
    downgrade: { command: ["./ctl.sh", "install", "{fromVersion}"] },
  },
  verify: [{ command: ["./ctl.sh", "check"] }],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "um-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The E_CONFIG error thrown by `fn` (sync or async). */
async function configError(fn: () => unknown): Promise<UpgradeError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpgradeError);
    expect((err as UpgradeError).code).toBe("E_CONFIG");
    return err as UpgradeError;
  }
  throw new Error("expected an E_CONFIG error");
}

function problems(err: UpgradeError): string[] {
  return (err.details?.problems ?? []) as string[];
}

describe("loadConfig", () => {
  it("validates and resolves the example JSON relative to the file's directory", async () => {
    const sub = join(dir, "blog");
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, "upgrade.json"), JSON.stringify(EXAMPLE, null, 2));
    const c = await loadConfig("blog/upgrade.json", dir);
    expect(c.configPath).toBe(join(sub, "upgrade.json"));
    expect(c.baseDir).toBe(sub);
    expect(c.database).toBe("sqlite:./data/blog.sqlite");
    expect(c.target).toEqual({ dialect: "sqlite", path: join(sub, "data/blog.sqlite") });
    expect(c.migrations).toEqual({ drizzle: join(sub, "drizzle") });
    expect(c.files).toEqual([join(sub, "blog.config.json")]);
    expect(c.stateDir).toBe(join(sub, ".upgrade"));
    expect(c.journal).toBe(`sqlite:${join(sub, ".upgrade/journal.sqlite")}`);
    expect(c.announce?.command).toEqual([join(sub, "notify.sh"), "{toVersion}"]);
    expect(c.announce?.graceSeconds).toBe(0);
    expect(c.service?.stop).toEqual({ command: [join(sub, "ctl.sh"), "stop"], cwd: sub });
    expect(c.service?.start).toEqual({ command: [join(sub, "ctl.sh"), "start"], cwd: sub });
    expect(c.service?.health).toEqual({ url: "http://127.0.0.1:4000/health", timeoutSeconds: 30 });
    expect(c.package?.upgrade).toEqual({ command: [join(sub, "ctl.sh"), "install", "{toVersion}"], cwd: sub });
    expect(c.package?.downgrade?.command).toEqual([join(sub, "ctl.sh"), "install", "{fromVersion}"]);
    expect(c.verify).toEqual([{ command: [join(sub, "ctl.sh"), "check"], cwd: sub }]);
    expect(c.env).toEqual({});
  });

  it("loads a .ts config through jiti (default export, or a function returning the config)", async () => {
    const define = resolve("src/config/define.ts");
    const body = `import { defineUpgrade } from ${JSON.stringify(define)};\nconst port: number = 5433;\n`;
    await writeFile(
      join(dir, "upgrade.config.ts"),
      `${body}export default defineUpgrade({ name: "ts-blog", database: \`postgres://app:pw@db:\${port}/blog\`, service: { stop: { http: { url: "http://127.0.0.1:4000/stop", headers: {}, body: {} } } } });\n`,
    );
    const c = await loadConfig(join(dir, "upgrade.config.ts"));
    expect(c.name).toBe("ts-blog");
    expect(c.target).toMatchObject({ dialect: "postgres", host: "db", port: 5433, database: "blog" });
    expect(c.service?.stop).toEqual({ http: { url: "http://127.0.0.1:4000/stop", headers: {}, body: {} } });
    await writeFile(
      join(dir, "fn.config.mts"),
      `${body}export default async () => defineUpgrade({ name: "fn", database: "sqlite:x.db" });\n`,
    );
    expect((await loadConfig("fn.config.mts", dir)).target).toEqual({ dialect: "sqlite", path: join(dir, "x.db") });
  });

  it("reports a missing file", async () => {
    const err = await configError(() => loadConfig("nope/upgrade.json", dir));
    expect(err.message).toContain(`config file not found: ${join(dir, "nope/upgrade.json")}`);
    expect(err.hint).toBeTruthy();
  });

  it("reports bad JSON with line and column, without echoing the content", async () => {
    await writeFile(join(dir, "bad.json"), '{\n  "name": "blog",\n  "database": "postgres://app:s3cret@db/blog",\n}\n');
    const err = await configError(() => loadConfig("bad.json", dir));
    expect(err.message).toContain("line 4, column 1");
    expect(err.message).not.toContain("s3cret");
    await writeFile(join(dir, "bad2.json"), '{"name": "blog", "database": }');
    expect((await configError(() => loadConfig("bad2.json", dir))).message).toContain("line 1, column 30");
  });

  it("reports a .ts config without a default export, and a syntax error", async () => {
    await writeFile(join(dir, "named.ts"), "export const config = {};\n");
    expect((await configError(() => loadConfig("named.ts", dir))).message).toContain("no default export");
    await writeFile(join(dir, "broken.ts"), "export default {\n");
    expect((await configError(() => loadConfig("broken.ts", dir))).message).toContain("could not load config file");
  });

  it("prefixes validation problems with the file path", async () => {
    await writeFile(join(dir, "typo.json"), JSON.stringify({ name: "blog", database: "sqlite:x.db", servce: {} }));
    const err = await configError(() => loadConfig("typo.json", dir));
    expect(err.message).toContain(join(dir, "typo.json"));
    expect(err.message).toContain('unknown key "servce" (did you mean "service"?)');
  });
});

describe("validateConfig", () => {
  it("accepts the example and an http stop", () => {
    expect(validateConfig(EXAMPLE)).toEqual(EXAMPLE);
    const http = {
      name: "x",
      database: "sqlite:x.db",
      service: { stop: { http: { method: "POST", url: "https://svc/stop", headers: {}, body: {} }, waitSeconds: 5 } },
    };
    expect(validateConfig(http)).toEqual(http);
  });

  it("validates backup options and passes them on resolved", async () => {
    const bad = await configError(() => validateConfig({ ...EXAMPLE, backup: { strategy: "snapshot", compress: 12, tool: "x" } }));
    expect(bad.details?.problems).toEqual([
      'unknown key "backup.tool"; allowed keys in backup: strategy, toolsPath, compress',
      'backup.strategy must be "dump" or "template"',
      expect.stringContaining("backup.compress"),
    ]);
    const ok = resolveConfig(
      validateConfig({ ...EXAMPLE, backup: { strategy: "template", toolsPath: "./bin:/usr/lib/postgresql/15/bin" } }),
      "/srv/app",
      null,
    );
    expect(ok.backup).toEqual({ strategy: "template", toolsPath: "/srv/app/bin:/usr/lib/postgresql/15/bin" });
  });

  it("rejects an unknown key, naming it and listing the allowed keys", async () => {
    const err = await configError(() => validateConfig({ ...EXAMPLE, servce: {} }));
    expect(err.message).toContain('unknown key "servce"');
    expect(err.message).toContain("allowed keys: name, database, backup, migrations");
    expect(err.hint).toContain('rename "servce" to "service"');
    const nested = await configError(() => validateConfig({ name: "x", database: "sqlite:x.db", service: { stp: {} } }));
    expect(nested.message).toContain('unknown key "service.stp"');
    expect(nested.message).toContain("allowed keys in service: stop, start, health");
  });

  it("rejects a shell string as a command", async () => {
    const err = await configError(() =>
      validateConfig({ name: "x", database: "sqlite:x.db", service: { stop: { command: "./ctl.sh stop" } } }),
    );
    expect(err.message).toContain(
      'service.stop.command must be an array of strings, not a shell string: commands are argv arrays, e.g. ["./ctl.sh", "stop"]',
    );
    const el = await configError(() =>
      validateConfig({ name: "x", database: "sqlite:x.db", service: { stop: { command: ["./ctl.sh", 1] } } }),
    );
    expect(el.message).toContain("service.stop.command[1] must be a string");
  });

  it("requires name and database", async () => {
    const err = await configError(() => validateConfig({ database: "sqlite:x.db" }));
    expect(problems(err)).toEqual(["name is required"]);
    expect(err.hint).toContain('"name"');
    expect(problems(await configError(() => validateConfig({})))).toEqual(["name is required", "database is required"]);
    expect((await configError(() => validateConfig("name: x"))).message).toContain("the config must be an object");
  });

  it("reports all problems together", async () => {
    const err = await configError(() =>
      validateConfig({
        name: "bad name!",
        database: "postgres://app:s3cret@db/",
        migrations: { drizzle: "./d", command: ["x"] },
        announce: { graceSeconds: -1, webhook: { url: "not a url" } },
        service: { start: { command: [], settleSeconds: "5" }, health: { url: "http://h/health", expectStatus: 99 } },
        package: { upgrade: ["npm", "i"] },
        verify: [{ command: ["ok"], cwd: 3, env: { A: 1 } }],
        env: "A=1",
        extra: true,
      }),
    );
    expect(problems(err)).toEqual([
      'unknown key "extra"; allowed keys: name, database, backup, migrations, files, stateDir, journal, lint, rehearse, announce, service, package, verify, env, preset',
      'name "bad name!" may only contain letters, digits, ".", "_" and "-"',
      expect.stringMatching(/^database: invalid database URL "postgres:\/\/app:\*\*\*@db\/": empty database name/),
      'migrations must have either "drizzle" or "command", not both',
      "announce.webhook.url must be an absolute http:// or https:// URL",
      "announce.graceSeconds must be a number of seconds from 0 to 604800 (7 days), not -1",
      "service.start.command must not be empty",
      'service.start.settleSeconds must be a number of seconds from 0 to 604800 (7 days), not "5"',
      "service.health.expectStatus must be an integer from 100 to 599",
      'package.upgrade must be an object like {"command": ["./ctl.sh", "stop"]}',
      "verify[0].cwd must be a string",
      "verify[0].env.A must be a string",
      "env must be an object of strings",
    ]);
    expect(err.message).toContain("13 problems");
    expect(err.message).not.toContain("s3cret");
  });
});

describe("validateConfig: every seconds field is bounded (Node's timers overflow above 24.8 days)", () => {
  // each field, and how to put a value into it
  const FIELDS: [string, (v: unknown) => Record<string, unknown>][] = [
    ["package.version.timeoutSeconds", (v) => ({ package: { version: { command: ["v"], timeoutSeconds: v } } })],
    ["verify[0].timeoutSeconds", (v) => ({ verify: [{ command: ["check"], timeoutSeconds: v }] })],
    ["migrations.timeoutSeconds", (v) => ({ migrations: { command: ["m"], timeoutSeconds: v } })],
    ["migrations.lockTimeoutSeconds", (v) => ({ migrations: { drizzle: "./d", lockTimeoutSeconds: v } })],
    ["announce.graceSeconds", (v) => ({ announce: { graceSeconds: v } })],
    ["announce.timeoutSeconds", (v) => ({ announce: { command: ["n"], timeoutSeconds: v } })],
    ["announce.webhook.timeoutSeconds", (v) => ({ announce: { webhook: { url: "http://h/a", timeoutSeconds: v } } })],
    ["service.stop.waitSeconds", (v) => ({ service: { stop: { http: { url: "http://h/stop" }, waitSeconds: v } } })],
    ["service.stop.http.timeoutSeconds", (v) => ({ service: { stop: { http: { url: "http://h/stop", timeoutSeconds: v } } } })],
    ["service.start.settleSeconds", (v) => ({ service: { start: { command: ["s"], settleSeconds: v } } })],
    ["service.start.timeoutSeconds", (v) => ({ service: { start: { command: ["s"], timeoutSeconds: v } } })],
    ["service.health.timeoutSeconds", (v) => ({ service: { health: { url: "http://h/health", timeoutSeconds: v } } })],
  ];
  const base = { name: "x", database: "sqlite:x.db" };

  it.each(FIELDS)('%s: 3000000, 604801, -1, "10", NaN and Infinity are E_CONFIG naming the field', async (field, put) => {
    for (const bad of [3_000_000, 604_801, -1, "10", Number.NaN, Number.POSITIVE_INFINITY]) {
      const err = await configError(() => validateConfig({ ...base, ...put(bad) }));
      expect(problems(err), `${field} = ${String(bad)}`).toEqual([
        expect.stringMatching(new RegExp(`^${field.replace(/[.[\]]/g, "\\$&")} must be a number of seconds from 0 to 604800 \\(7 days\\)`)),
      ]);
    }
  });

  it.each(FIELDS)("%s: 0, 0.5 and 604800 (7 days) are accepted", (_field, put) => {
    for (const ok of [0, 0.5, 604_800]) expect(() => validateConfig({ ...base, ...put(ok) })).not.toThrow();
  });
});

describe("resolveConfig and defineUpgrade", () => {
  it("resolves cwd, commands and a custom journal; defineUpgrade is the identity", () => {
    const config = defineUpgrade({
      name: "svc",
      database: "postgres://app:pw@db/svc",
      journal: "sqlite:../state/j.sqlite",
      migrations: { command: ["svc", "upgrade-db"], cwd: "app" },
      announce: { withdraw: { command: ["../bin/withdraw"] } },
      verify: [{ command: ["/usr/bin/true"] }],
    });
    const c = resolveConfig(config, "/srv/svc", null);
    expect(c.configPath).toBeNull();
    expect(c.journal).toBe("sqlite:/srv/state/j.sqlite");
    expect(c.stateDir).toBe("/srv/svc/.upgrade");
    expect(c.migrations).toEqual({ command: ["svc", "upgrade-db"], cwd: "/srv/svc/app" });
    expect(c.announce?.withdraw).toEqual({ command: ["/srv/bin/withdraw"], cwd: "/srv/svc" });
    expect(c.verify).toEqual([{ command: ["/usr/bin/true"], cwd: "/srv/svc" }]);
  });

  it("reports a bad database URL as E_CONFIG naming the field, password redacted", async () => {
    const err = await configError(() => resolveConfig({ name: "x", database: "mysql://root:s3cret@db:99999/shop" }, "/srv", null));
    expect(err.message).toContain("database: invalid database URL");
    expect(err.message).not.toContain("s3cret");
    const same = await configError(() => resolveConfig({ name: "x", database: "sqlite:/srv/a.db", journal: "sqlite:a.db" }, "/srv", null));
    expect(same.message).toContain("journal must not be the database");
  });
});
