/**
 * Keeps the WAL from a change mark to its check, so that a checkpoint between them (the grace
 * period before the stop is minutes long; `wal_keep_size` is 0 by default) cannot recycle the
 * segments the check must read and turn an O(changed) seal into a full fingerprint.
 *
 * How: a TEMPORARY physical replication slot, created with `immediately_reserve` on a session of
 * its own to the maintenance database, BEFORE the mark's LSN is read (so its restart_lsn is at or
 * before the mark). The server keeps every segment from the slot's restart_lsn while the slot
 * lives, and drops a temporary slot itself when its session ends, however it ends: the adapter's
 * close, a SIGKILL of the orchestrator, a dropped connection. So no slot can leak and retain WAL
 * forever (a permanent slot would, unless every path dropped it: the check, rollback, abandon,
 * resume, a crash in any of them); what a lost slot costs is only the fallback: the check reads
 * the WAL if PostgreSQL still has it (it refuses a removed segment, never misreads one) and the
 * seal otherwise fingerprints, exact either way. A renewed mark moves the slot forward (the WAL a
 * backup wrote is then freed); the seal releases it (`forget`), so a migration's WAL is not kept.
 *
 * Needs REPLICATION (or superuser), `max_replication_slots` > 0 and `wal_level` above minimal;
 * without them the mark says `walKept: false` and why, and the WAL is read if still there.
 */
import { pgError, onDatabase, openPg, type PgSql, type PostgresTarget } from "./connection.js";
import { parseLsn } from "./wal-records.js";

/** Names of the slots; the creating session's backend pid follows (unique among live sessions). */
export const SLOT_PREFIX = "upgrade_machine_mark_";

/** Whether a slot keeps the WAL since a mark (kept in the mark, so the journal says). */
export type WalKept = { walKept: true; slot: string } | { walKept: false; walKeptWhy: string };

/** The slot of one adapter: at most one, on a session held until `forget`. */
export interface WalKeeper {
  /** A slot reserving the WAL from now on (the one held, when still alive), or why none. Call before reading the mark's LSN. */
  keep(): Promise<WalKept>;
  /** Moves `slot`'s reservation forward to `lsn` (a renewed mark's), when it is the one held; best effort. */
  advance(slot: string, lsn: string): Promise<void>;
  /** Drops the slot and ends its session: the WAL since the marks is no longer kept. */
  forget(): Promise<void>;
}

/** The keeper of `target`'s marks, its session on the maintenance database opened on first `keep`. */
export function walKeeper(target: PostgresTarget, maintenance: string): WalKeeper {
  const on = onDatabase(target, maintenance);
  let session: Promise<PgSql> | undefined;
  let slot: string | undefined;
  /** Why no slot can be had on this server for this user (settings and privileges do not change in a run). */
  let refused: string | undefined;

  const end = async (): Promise<void> => {
    const s = session;
    session = undefined;
    slot = undefined;
    await (await s?.catch(() => undefined))?.end({ timeout: 5 }).catch(() => undefined);
  };

  return {
    async keep() {
      if (refused !== undefined) return { walKept: false, walKeptWhy: refused };
      try {
        session ??= openPg(on, 1, true);
        const sql = await session;
        if (slot !== undefined) {
          const [alive] = await sql<{ ok: boolean }[]>`
            SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ${slot} AND active_pid = pg_backend_pid()) AS ok`;
          if (alive?.ok) return { walKept: true, slot };
          slot = undefined; // the connection was replaced: its slot ended with it
        }
        const [s] = await sql<{ level: string; slots: number; may: boolean | null; pid: number }[]>`
          SELECT current_setting('wal_level') AS level, current_setting('max_replication_slots')::int AS slots,
            (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user) AS may, pg_backend_pid() AS pid`;
        refused =
          s!.level === "minimal"
            ? "wal_level is minimal (replication slots need replica)"
            : s!.slots === 0
              ? "max_replication_slots is 0"
              : s!.may !== true
                ? "this user has neither REPLICATION nor superuser (ALTER ROLE ... REPLICATION lets the mark keep its WAL)"
                : undefined;
        if (refused !== undefined) return { walKept: false, walKeptWhy: refused };
        const name = `${SLOT_PREFIX}${s!.pid}`;
        await sql`SELECT pg_create_physical_replication_slot(${name}, true, true)`;
        slot = name;
        return { walKept: true, slot };
      } catch (err) {
        await end();
        return { walKept: false, walKeptWhy: pgError(err, on, "reserving the WAL since the change mark", "E_VERIFY").message };
      }
    },

    async advance(which, lsn) {
      if (which !== slot || session === undefined) return;
      const sql = await session;
      // Refused when `lsn` is before the slot's position (an older mark renewed): then nothing moves.
      await sql`SELECT pg_replication_slot_advance(${which}, ${lsn}::pg_lsn)`.catch(() => undefined);
    },

    async forget() {
      if (slot !== undefined && session !== undefined) {
        const sql = await session.catch(() => undefined);
        if (sql) await sql`SELECT pg_drop_replication_slot(${slot})`.catch(() => undefined);
      }
      await end(); // a temporary slot ends with its session anyway
    },
  };
}

/**
 * Null when `slot` kept every WAL segment since `lsn` (it exists, reserves from at or before
 * `lsn`, and max_slot_wal_keep_size has not taken its WAL); otherwise why not.
 */
export async function slotKept(admin: PgSql, slot: string, lsn: string): Promise<string | null> {
  const [row] = await admin<{ restart: string | null; status: string | null }[]>`
    SELECT restart_lsn::text AS restart, wal_status AS status FROM pg_replication_slots WHERE slot_name = ${slot}`;
  if (!row) return `its slot ${slot} is gone (the session that held it ended: a resume, a crash or a dropped connection)`;
  if (row.restart === null || parseLsn(row.restart) > parseLsn(lsn))
    return `its slot ${slot} reserves the WAL only from ${row.restart ?? "nowhere"}, after the mark`;
  if (row.status === "lost" || row.status === "unreserved") return `its slot ${slot} is ${row.status} (max_slot_wal_keep_size)`;
  return null;
}
