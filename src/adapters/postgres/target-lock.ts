import { createHash } from "node:crypto";
import { UpgradeError } from "../../errors.js";
import type { TargetLock } from "../types.js";
import { onDatabase, openPg, pgError, type PostgresTarget } from "./connection.js";

/** The advisory lock key of a database's target lock: 64 bits of sha256, as a signed bigint. */
export function targetLockKey(database: string): string {
  return createHash("sha256").update(`upgrade-machine target lock:${database}`).digest().readBigInt64BE(0).toString();
}

/**
 * Takes the target lock of a PostgreSQL database at once or fails with E_BUSY: a session
 * advisory lock, keyed by the database's name, held on a connection of its own to the
 * maintenance database (the target itself must stay free of sessions for a restore's rename).
 * The server releases it when the session ends, so a killed orchestrator frees it at once. The
 * identity is the server's `system_identifier` and the database name, whatever host spelling,
 * port forward or socket the URL used.
 */
export async function lockPostgresTarget(target: PostgresTarget, maintenance: string): Promise<TargetLock> {
  const on = onDatabase(target, maintenance);
  // Held: a pool's idle timeout or maximum lifetime closing this connection would release the lock on the server.
  const sql = await openPg(on, 1, true);
  const key = targetLockKey(target.database);
  let identity: string;
  try {
    const [row] = await sql<{ locked: boolean; id: string }[]>`
      SELECT pg_try_advisory_lock(${key}::bigint) AS locked, (SELECT system_identifier::text FROM pg_control_system()) AS id`;
    identity = `postgres://${row!.id}/${encodeURIComponent(target.database)}`;
    if (!row!.locked) {
      throw new UpgradeError(
        "E_BUSY",
        `the PostgreSQL database ${JSON.stringify(target.database)} is being upgraded by another upgrade-machine process`,
        {
          hint: "wait for that run to end (`upgrade-machine status` with its config); its lock is released as soon as that process ends, even if it is killed",
          details: { identity },
        },
      );
    }
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    if (err instanceof UpgradeError) throw err;
    throw pgError(err, on, "taking the target lock");
  }
  let released = false;
  return {
    identity,
    async release() {
      if (released) return;
      released = true;
      await sql`SELECT pg_advisory_unlock(${key}::bigint)`.catch(() => undefined);
      await sql.end({ timeout: 5 }).catch(() => undefined);
    },
  };
}
