// The target lock of a server database is held for as long as the run holds it, however long
// a step leaves its connection idle (a grace period, a slow package switch): on PostgreSQL a
// session advisory lock on a connection of its own, on MySQL / MariaDB GET_LOCK on one. A pool's
// idle timeout closing that connection releases the lock on the server without a word, and a
// second orchestrator may then take the target while the first still drives it. Each lock is
// left idle for longer than the driver's idle timeout (postgres.js: 30 s), then a second
// process-side lock on the same database must still be refused, and the server must still
// list the lock. Both dialects wait at once (it.concurrent).
import { describe, expect, it } from "vitest";
import { openAdapter } from "../src/adapters/registry.js";
import type { DatabaseAdapter, TargetLock } from "../src/adapters/types.js";
import { parseDatabaseUrl } from "../src/url.js";
import {
  ADMIN_URL,
  createScratchDatabase,
  querySql,
  serverAvailable,
  type ScratchDatabase,
  type ServerDialect,
} from "./helpers/servers.js";

const IDLE_MS = 35_000;
const dialects: ServerDialect[] = ["postgres", "mysql"];
const available = Object.fromEntries(await Promise.all(dialects.map(async (d) => [d, await serverAvailable(d)] as const)));

/** How many sessions hold the target lock of `database`, by the server's own view. */
async function holders(dialect: ServerDialect, database: string): Promise<number> {
  if (dialect === "postgres") {
    const { targetLockKey } = await import("../src/adapters/postgres/target-lock.js");
    const key = BigInt(targetLockKey(database));
    const unsigned = BigInt.asUintN(64, key);
    const [row] = await querySql<{ n: string }>("postgres", ADMIN_URL.postgres, [
      `SELECT count(*)::text AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND classid::bigint = ${unsigned >> 32n} AND objid::bigint = ${unsigned & 0xffffffffn}`,
    ]);
    return Number(row?.n);
  }
  const { targetLockName } = await import("../src/adapters/mysql/target-lock.js");
  const [row] = await querySql<{ n: number | null }>("mysql", ADMIN_URL.mysql, [
    `SELECT IS_USED_LOCK('${targetLockName(database)}') IS NOT NULL AS n`,
  ]);
  return Number(row?.n);
}

describe("the target lock left idle", () => {
  for (const dialect of dialects) {
    it.skipIf(!available[dialect]).concurrent(
      `${dialect}: still held after ${IDLE_MS / 1000} s without a query, a second lock is refused (E_BUSY)`,
      async () => {
        const db: ScratchDatabase = await createScratchDatabase(dialect, "um_tlock");
        const adapters: DatabaseAdapter[] = [];
        const open = async () => {
          const a = await openAdapter(parseDatabaseUrl(db.url, "/tmp"));
          adapters.push(a);
          return a;
        };
        try {
          const lock: TargetLock = await (await open()).lockTarget();
          expect(await holders(dialect, db.name)).toBe(1);
          await new Promise((r) => setTimeout(r, IDLE_MS));
          expect(await holders(dialect, db.name)).toBe(1);
          await expect((await open()).lockTarget()).rejects.toMatchObject({ code: "E_BUSY" });
          await lock.release();
          expect(await holders(dialect, db.name)).toBe(0);
        } finally {
          for (const a of adapters) await a.close().catch(() => undefined);
          await db.drop();
        }
      },
      IDLE_MS + 60_000,
    );
  }
});
