// PostgreSQL 16, 17 and 18 with only this machine's pg_dump 15, as many deployments run them:
// the dump strategy is refused at preflight with the advice that the template strategy needs no
// client tools; the template strategy works without them: the hot backup is a template copy when
// no other session is connected, and is skipped otherwise, with a line saying so and what it
// costs (in the output, the plan and the journal); the seal then takes the template copy after
// the stop, and a rollback restores it.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { createPostgresAdapter, type PostgresTarget } from "../src/adapters/postgres/index.js";
import { parseDatabaseUrl } from "../src/url.js";
import { caught } from "./contract/helpers.js";
import { keys, prepare } from "./helpers/crash-server.js";
import { runCli } from "./helpers/example.js";
import { pgMajors } from "./helpers/pg-majors.js";

/** A session like a running service's, on `url`, named so that a stop command can end it. */
function serviceSession(url: string): postgres.Sql {
  const t = parseDatabaseUrl(url, "/") as PostgresTarget;
  return postgres({
    host: t.host,
    port: t.port,
    user: t.user,
    database: t.database,
    max: 1,
    onnotice: () => undefined,
    connection: { application_name: "fake-service" },
  });
}

const COST =
  /restore point taken after the stop: about \d+ s of downtime per GB \(measured: the copy and the fingerprint that proves it\), about \d+(\.\d+)? s for this database \(\d+ MB\)/;

for (const m of (await pgMajors()).filter((m) => m.major >= 16)) {
  describe.skipIf(!m.available)(`PostgreSQL ${m.major} with only pg_dump 15`, () => {
    it("the dump strategy is refused at preflight (E_TOOL_VERSION, naming the pg_dump found and the template strategy); nothing is changed", async () => {
      const setup = await prepare("postgres", false, false, { strategy: "dump" }, { adminUrl: m.adminUrl });
      try {
        const before = await setup.fingerprint();
        const run = await runCli(["run", "--config", setup.config]);
        expect(run.code, run.stdout + run.stderr).toBe(1);
        const out = run.stdout + run.stderr;
        expect(out).toMatch(new RegExp(`E_TOOL_VERSION.*pg_dump 15\\.\\d+ is older than the server \\(${m.major}\\)`));
        expect(out).toContain(`postgresql-client-${m.major}`);
        expect(out).toContain("template restore points need no client tools");
        expect(await keys(setup.config)).toEqual(["run.requested", "step.started:preflight", "step.failed:preflight", "run.aborted"]);
        expect(await setup.fingerprint()).toBe(before);
        expect(existsSync(join(setup.dir, ".upgrade", "backups"))).toBe(false);
      } finally {
        await setup.cleanup();
      }
    });

    it("template strategy: the hot backup is a template copy when nobody is connected, skipped (saying why and what it costs) when a session is; the copy after the stop needs no tool", async () => {
      const setup = await prepare("postgres", false, false, { strategy: "template" }, { adminUrl: m.adminUrl });
      const dir = mkdtempSync(join(tmpdir(), "um-notools-"));
      const adapter = createPostgresAdapter(parseDatabaseUrl(setup.database.url, "/") as PostgresTarget, { backupStrategy: "template" });
      const service = serviceSession(setup.database.url);
      try {
        await service`SELECT 1`;
        const info = await adapter.check();
        expect(info.choices).toMatchObject({ strategy: "template", clientTools: null });
        expect(info.notes?.[0]).toMatch(
          new RegExp(
            `^PostgreSQL ${m.major}\\.\\d+, template restore points; client tools: no pg_dump at least as new as PostgreSQL ${m.major} \\(found: .*pg_dump 15\\.\\d+ is older`,
          ),
        );
        expect(info.notes?.[1]).toMatch(
          /^hot backup: a template copy when no other session is connected \(now 1 other session is connected\); otherwise none \(no suitable pg_dump\): /,
        );
        expect(info.notes?.[1]).toMatch(COST);
        const hot = await adapter.hotBackup!(dir, "hot");
        expect(hot).toEqual({
          skipped: expect.stringMatching(
            new RegExp(
              `^no hot backup: other sessions are connected \\(a template copy needs none\\) and no pg_dump at least as new as PostgreSQL ${m.major}`,
            ),
          ),
        });
        expect((hot as { skipped: string }).skipped).toMatch(COST);
        expect(readdirSync(dir)).toEqual([]);
        expect((await caught(adapter.backup(dir, "point"))).code).toBe("E_BUSY"); // no pg_dump to fall back on
        await service.end({ timeout: 1 });
        const copy = await adapter.hotBackup!(dir, "hot");
        expect(copy).toMatchObject({ format: "pg-template-database" });
      } finally {
        await service.end({ timeout: 1 });
        await adapter.close();
        await setup.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

const newest = (await pgMajors()).at(-1)!;
describe.skipIf(!newest.available)(
  `PostgreSQL ${newest.major}, template strategy, no client tools: a run with the service connected`,
  () => {
    it("skips the hot backup with a line in the plan, the output and the journal, seals with a template copy after the stop, and rolls back to it", async () => {
      const admin = new URL(newest.adminUrl);
      const stop = [
        "psql",
        "-X",
        "-q",
        "-h",
        admin.hostname,
        "-p",
        admin.port,
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-c",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fake-service'",
      ];
      const setup = await prepare(
        "postgres",
        false,
        true,
        { strategy: "template" },
        { adminUrl: newest.adminUrl, config: { service: { stop: { command: stop } } } },
      );
      const service = serviceSession(setup.database.url);
      try {
        await service`SELECT 1`;
        const before = await setup.fingerprint();
        const plan = await runCli(["plan", "--config", setup.config]);
        expect(plan.stdout).toMatch(
          /database: hot backup: a template copy when no other session is connected \(now 1 other session is connected\); otherwise none/,
        );
        expect(plan.stdout).toMatch(COST);

        const run = await runCli(["run", "--config", setup.config]);
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stdout).toMatch(/preflight: PostgreSQL \d+\.\d+, template restore points; client tools: no pg_dump/);
        expect(run.stdout).toMatch(/backup: no hot backup: other sessions are connected/);
        expect(run.stdout).toMatch(COST);
        expect(run.stdout).toMatch(/seal: no hot backup of the database: taking the restore point now/);
        expect(run.stdout).toMatch(/rolledBack/);

        const history = await runCli(["history", "--config", setup.config, "--json"]);
        const events = history.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { type: string; step: string | null; payload: { output?: Record<string, unknown> } });
        const output = (step: string) => events.find((e) => e.type === "step.succeeded" && e.step === step)?.payload.output ?? {};
        expect(output("preflight").database).toMatchObject({
          strategy: "template",
          clientTools: null,
          rejectedTools: expect.arrayContaining([expect.stringMatching(/pg_dump 15\.\d+ is older than the server/)]),
        });
        expect(output("backup")).toMatchObject({ database: null, databaseSkipped: expect.stringMatching(COST) });
        expect(output("seal")).toMatchObject({ reusedHotBackup: false, restorePoint: { format: "pg-template-database" } });
        expect(await setup.fingerprint()).toBe(before);
      } finally {
        await service.end({ timeout: 1 });
        await setup.cleanup();
      }
    });
  },
);
