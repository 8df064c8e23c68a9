// The seal end to end, through the real CLI (dist/cli.js) on a real service: (a) nothing written
// between the hot backup and the stop: the hot backup is the restore point, proven by the
// dialect's change mark (where the dialect has one) without fingerprinting the live database;
// (b) a write that leaves every row count unchanged, made after the hot backup and before the
// stop (by the announce command): the restore point is retaken, and after a failing migration
// the rollback restores exactly the stopped state (its fingerprint, taken by the stop command
// from a copy of the stopped database). One scenario per dialect: `worlds` below; another
// dialect's world adds its own target and writer and says whether its seal proves by mark.
import { cpSync, existsSync, mkdirSync, writeFileSync, readFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteAdapter, SQLITE_MARK_HOW } from "../src/adapters/sqlite/index.js";
import { addBrokenRelease, prepareExample, runCli, type Example } from "./helpers/example.js";

/** A running service on one dialect, prepared for the seal's two cases. */
interface SealWorld {
  config: string;
  /** Makes the announce command write (same row counts) between the hot backup and the stop. */
  writeBeforeStop(): void;
  /** Adds a release whose migration fails; returns its version. */
  brokenRelease(): string;
  /** The live database's fingerprint hash. */
  fingerprint(): Promise<string>;
  /** The fingerprint hash of the database as the stop left it (a copy taken by the stop command). */
  stoppedFingerprint(): Promise<string>;
  cleanup(): Promise<void>;
}

interface WorldKind {
  dialect: string;
  /** The `proof` of a seal by this dialect's change mark; null when the dialect has none (its seal then fingerprints). */
  markProof: string | null;
  prepare(port: number): Promise<SealWorld>;
}

async function sqliteFingerprint(path: string): Promise<string> {
  const a = createSqliteAdapter({ path });
  try {
    return (await a.fingerprint()).hash;
  } finally {
    await a.close();
  }
}

/** The example blog (SQLite, WAL): its stop command also copies the stopped database (file and WAL) aside. */
const sqliteBlog: WorldKind = {
  dialect: "sqlite",
  markProof: SQLITE_MARK_HOW,
  async prepare(port) {
    const ex: Example = await prepareExample(port);
    const stopped = join(ex.dir, "stopped");
    writeFileSync(
      join(ex.dir, "stop-and-keep.sh"),
      `#!/usr/bin/env bash\nset -euo pipefail\ncd "$(dirname "$0")"\n./ctl.sh stop\nrm -rf stopped && mkdir stopped\ncp data/blog.sqlite stopped/\nif [[ -e data/blog.sqlite-wal ]]; then cp data/blog.sqlite-wal stopped/; fi\n`,
    );
    chmodSync(join(ex.dir, "stop-and-keep.sh"), 0o755);
    const config = JSON.parse(readFileSync(ex.config, "utf8"));
    config.service.stop.command = ["./stop-and-keep.sh"];
    writeFileSync(ex.config, JSON.stringify(config, null, 2));
    return {
      config: ex.config,
      writeBeforeStop() {
        writeFileSync(
          join(ex.dir, "edit-post.mjs"),
          `import Database from "better-sqlite3";\nconst db = new Database("data/blog.sqlite", { timeout: 10000 });\ndb.prepare("UPDATE posts SET title = title || ' (edited)' WHERE id = 1").run();\ndb.close();\n`,
        );
        const c = JSON.parse(readFileSync(ex.config, "utf8"));
        c.announce.command = ["node", "edit-post.mjs"];
        writeFileSync(ex.config, JSON.stringify(c, null, 2));
      },
      brokenRelease() {
        addBrokenRelease(ex);
        return "3.0.0";
      },
      fingerprint: () => sqliteFingerprint(ex.db),
      async stoppedFingerprint() {
        // A copy of the copy: opening it replays its WAL, which must not touch the kept files.
        const scratch = join(ex.dir, "stopped-open");
        mkdirSync(scratch, { recursive: true });
        cpSync(join(stopped, "blog.sqlite"), join(scratch, "blog.sqlite"));
        if (existsSync(join(stopped, "blog.sqlite-wal"))) cpSync(join(stopped, "blog.sqlite-wal"), join(scratch, "blog.sqlite-wal"));
        return sqliteFingerprint(join(scratch, "blog.sqlite"));
      },
      cleanup: () => ex.cleanup(),
    };
  },
};

const worlds: WorldKind[] = [sqliteBlog];

/** The outputs of the latest run's steps, from `history --json`. */
async function outputs(config: string): Promise<Record<string, any>> {
  const r = await runCli(["history", "--config", config, "--json"]);
  const events = r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return Object.fromEntries(events.filter((e) => e.type === "step.succeeded" && e.step).map((e) => [e.step, e.payload?.output]));
}

let world: SealWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

for (const [i, kind] of worlds.entries()) {
  describe(`the seal on ${kind.dialect}, through the CLI`, () => {
    const port = 4501 + i * 2;

    it("nothing written between the hot backup and the stop: the hot backup is the restore point, the stopped state exactly", async () => {
      world = await kind.prepare(port);
      const r = await runCli(["run", "--config", world.config, "--to", "2.0.0"]);
      expect(r.code, r.stderr).toBe(0);
      const out = await outputs(world.config);
      expect(out.seal.reusedHotBackup).toBe(true);
      expect(out.seal.restorePoint.path).toBe(out.backup.database.path);
      expect(out.seal.fingerprint.hash).toBe(await world.stoppedFingerprint());
      if (kind.markProof) {
        // Proven by the mark: the live database was not fingerprinted (no fingerprint proof, no quiesce).
        expect(out.backup.database.mark.how).toBe(kind.markProof);
        expect(out.seal.proof).toBe(kind.markProof);
        expect(r.stdout + r.stderr).toContain(`seal: the database is unchanged since the hot backup, proven by ${kind.markProof}`);
      } else {
        expect(out.seal.proof).toBe("fingerprint");
      }
    });

    it("a write of unchanged row counts after the hot backup: the restore point is retaken, and the rollback restores the stopped state exactly", async () => {
      world = await kind.prepare(port + 1);
      world.writeBeforeStop();
      const to = world.brokenRelease();
      const r = await runCli(["run", "--config", world.config, "--to", to]);
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      const out = await outputs(world.config);
      const stopped = await world.stoppedFingerprint();
      expect(out.backup.database.fingerprint.tables.posts.rows).toBe(out.seal.fingerprint.tables.posts.rows);
      expect(out.backup.database.fingerprint.hash).not.toBe(stopped); // the write changed content, not counts
      expect(out.seal.reusedHotBackup).toBe(false);
      expect(out.seal.proof).toBe("copy");
      expect(out.seal.fingerprint.hash).toBe(stopped);
      // The restored database, proven before the previous version started (restoreDatabase), and now.
      expect(out.restoreDatabase.fingerprint).toBe(stopped);
      expect(await world.fingerprint()).toBe(stopped);
    });
  });
}
