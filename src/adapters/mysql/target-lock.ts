import { createHash } from "node:crypto";
import { UpgradeError } from "../../errors.js";
import type { TargetLock } from "../types.js";
import { mysqlError, openMysql, type MysqlTarget } from "./connection.js";

/** The `GET_LOCK` name of a database's target lock (lock names are server-wide, at most 64 characters). */
export function targetLockName(database: string): string {
  return `um-target:${createHash("sha256").update(database).digest("hex").slice(0, 48)}`;
}

/**
 * Takes the target lock of a MySQL / MariaDB database at once or fails with E_BUSY:
 * `GET_LOCK` on a connection of its own (server-wide, keyed by the database's name), released
 * by the server when the connection ends, so a killed orchestrator frees it at once. The
 * identity is the server's own (`@@server_uuid` on MySQL; host name, port and data directory on
 * MariaDB) and the database name, whatever host spelling or socket the URL used.
 */
export async function lockMysqlTarget(target: MysqlTarget): Promise<TargetLock> {
  const pool = await openMysql(target, null, 1);
  const name = targetLockName(target.database);
  let conn: Awaited<ReturnType<typeof pool.getConnection>> | undefined;
  let identity: string;
  try {
    conn = await pool.getConnection();
    const [vars] = await conn.query("SELECT @@hostname AS host, @@port AS port, @@datadir AS datadir");
    const v = (vars as { host: string; port: number; datadir: string }[])[0]!;
    const uuid = await conn.query("SELECT @@server_uuid AS uuid").then(
      ([rows]) => (rows as { uuid: string | null }[])[0]?.uuid ?? null,
      () => null, // MariaDB has no server_uuid
    );
    identity = `mysql://${uuid ?? encodeURIComponent(`${v.host}:${v.port}:${v.datadir}`)}/${encodeURIComponent(target.database)}`;
    const [rows] = await conn.query("SELECT GET_LOCK(?, 0) AS locked", [name]);
    if (Number((rows as { locked: number | null }[])[0]?.locked) !== 1) {
      throw new UpgradeError(
        "E_BUSY",
        `the MySQL database ${JSON.stringify(target.database)} is being upgraded by another upgrade-machine process`,
        {
          hint: "wait for that run to end (`upgrade-machine status` with its config); its lock is released as soon as that process ends, even if it is killed",
          details: { identity },
        },
      );
    }
  } catch (err) {
    conn?.release();
    await pool.end().catch(() => undefined);
    if (err instanceof UpgradeError) throw err;
    throw mysqlError(err, target, "taking the target lock");
  }
  const held = conn;
  let released = false;
  return {
    identity,
    async release() {
      if (released) return;
      released = true;
      await held.query("SELECT RELEASE_LOCK(?)", [name]).catch(() => undefined);
      held.release();
      await pool.end().catch(() => undefined);
    },
  };
}
