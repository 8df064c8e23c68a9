import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openAdapter } from "../src/adapters/registry.js";
import { parseDatabaseUrl } from "../src/url.js";
import { shopMigrations } from "./contract/targets.js";
import { runCli } from "./helpers/example.js";
import { bytesUnder, latestRunId, prune, sealOf } from "./helpers/restore.js";
import { createScratchDatabase, execSql, querySql, serverAvailable, type ScratchDatabase, type ServerDialect } from "./helpers/servers.js";

// `restore` and `backups prune` with the target on PostgreSQL (template and dump restore points)
// and MariaDB, through the real CLI: a shop database upgraded by its migrations, changed after,
// restored to the upgrade's restore point (database and a configured file equal it), a restore
// interrupted after its seal, and prunes that keep what they must and free what they say.

const variants: { dialect: ServerDialect; strategy?: "template" | "dump" }[] = [
  { dialect: "postgres", strategy: "template" },
  { dialect: "postgres", strategy: "dump" },
  { dialect: "mysql" },
];

for (const v of variants) {
  const label = `${v.dialect}${v.strategy ? ` (${v.strategy})` : ""}`;
  const available = await serverAvailable(v.dialect);
  if (!available && process.env.CI) throw new Error(`no ${v.dialect} server for the restore tests`);
  describe.skipIf(!available)(`restore and prune on ${label}`, () => {
    let target: ScratchDatabase | undefined;
    let dir = "";
    afterAll(async () => {
      await target?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("restores the restore point (database and files), keeps what prune must, frees what it says", async () => {
      dir = mkdtempSync(join(tmpdir(), "um-sf-restore-"));
      target = await createScratchDatabase(v.dialect, "um_sf_restore");
      cpSync(shopMigrations(v.dialect === "postgres" ? "pg" : "mysql"), join(dir, "migrations"), { recursive: true });
      writeFileSync(join(dir, "app.conf"), "original\n");
      const config = join(dir, "upgrade.json");
      writeFileSync(
        config,
        JSON.stringify({
          name: `shop-${v.dialect}`,
          database: target.url,
          migrations: { drizzle: "./migrations" },
          files: ["./app.conf"],
          ...(v.strategy ? { backup: { strategy: v.strategy } } : {}),
        }),
      );
      const fingerprint = async () => {
        const a = await openAdapter(parseDatabaseUrl(target!.url, dir));
        try {
          return (await a.fingerprint()).hash;
        } finally {
          await a.close();
        }
      };
      const q = v.dialect === "postgres" ? '"' : "`";
      const before = await fingerprint();
      const up = await runCli(["run", "--config", config]);
      expect(up.code, up.stderr + up.stdout).toBe(0);
      const r1 = await latestRunId(config);
      expect((await sealOf(config, r1)).fingerprint.hash).toBe(before);
      await execSql(v.dialect, target.url, [`INSERT INTO ${q}customers${q} (email, name) VALUES ('late@x', 'Late')`]);
      writeFileSync(join(dir, "app.conf"), "edited\n");
      const present = await fingerprint();
      expect(present).not.toBe(before);

      const restored = await runCli(["restore", "--config", config, "--run", r1]);
      expect(restored.code, restored.stderr + restored.stdout).toBe(0);
      const r2 = await latestRunId(config);
      expect(await fingerprint()).toBe(before);
      expect(readFileSync(join(dir, "app.conf"), "utf8")).toBe("original\n");
      expect((await sealOf(config, r2)).fingerprint.hash).toBe(present);

      // a restore of r2 (back to the present) interrupted after its seal: unfinished, r2 its source
      const crashed = await runCli(["restore", "--config", config, "--run", r2], { UPGRADE_MACHINE_CRASH_AFTER: "step.succeeded:seal" });
      expect(crashed.signal).toBe("SIGKILL");
      const r3 = await latestRunId(config);
      const folder = (r: string) => join(dir, ".upgrade", "backups", r);
      const templates = async (r: string) => {
        if (v.strategy !== "template") return 0;
        let bytes = 0;
        for (const f of ["database-hot", "database"].map((n) => join(folder(r), `${n}.pgtemplate.json`)).filter(existsSync)) {
          const snapshot = JSON.parse(readFileSync(f, "utf8")).snapshot as string;
          const [row] = await querySql<{ b: string }>("postgres", target!.url, [`SELECT pg_database_size('${snapshot}')::text AS b`]);
          bytes += Number(row!.b);
        }
        return bytes;
      };
      const size1 = bytesUnder(folder(r1)) + (await templates(r1));
      expect(size1).toBeGreaterThan(0);
      const first = await prune(config, "--keep", "1");
      expect(first.code, first.stderr).toBe(0);
      expect(first.pruned).toEqual({ [r1]: size1 });
      expect(first.freed).toBe(size1);
      expect(first.kept).toEqual({ [r3]: "unfinished", [r2]: "the newest completed run" });
      expect(existsSync(folder(r1))).toBe(false);
      if (v.strategy === "template") {
        const left = await querySql<{ n: string }>("postgres", target.url, [
          `SELECT count(*)::text AS n FROM pg_database WHERE datname LIKE '${target.name}\\_\\_um\\_%'`,
        ]);
        expect(Number(left[0]!.n)).toBeGreaterThan(0); // r2's and r3's template copies are kept
      }

      const resumed = await runCli(["resume", "--config", config]);
      expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
      expect(await fingerprint()).toBe(present);
      expect(readFileSync(join(dir, "app.conf"), "utf8")).toBe("edited\n");
      const size2 = bytesUnder(folder(r2)) + (await templates(r2));
      const second = await prune(config, "--keep", "1");
      expect(second.pruned).toEqual({ [r2]: size2 });
      expect(second.freed).toBe(size2);
      expect(second.kept).toEqual({ [r3]: "the newest completed run" });
      const again = await runCli(["restore", "--config", config, "--run", r3]);
      expect(again.code, again.stderr + again.stdout).toBe(0);
      expect(await fingerprint()).toBe(before);
    }, 600_000);
  });
}
