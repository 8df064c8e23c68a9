import { UpgradeError } from "../errors.js";
import type { JournalEvent } from "./types.js";

/** A row of the events table as every dialect stores it: the payload as JSON text. */
export interface EventRow {
  runId: string;
  seq: number;
  type: string;
  step: string | null;
  payload: string;
  at: string;
  hash: string;
}

/** The row a journal event is stored as. */
export function toRow(event: JournalEvent): EventRow {
  return { ...event, payload: JSON.stringify(event.payload) };
}

/** The journal event a stored row holds. */
export function fromRow(row: EventRow): JournalEvent {
  return { ...row, type: row.type as JournalEvent["type"], step: row.step as JournalEvent["step"], payload: JSON.parse(row.payload) };
}

/** The error of an append that lost the race for its seq: another writer drives the run. */
export function fencedError(event: JournalEvent, cause: unknown): UpgradeError {
  return new UpgradeError("E_FENCED", `another process already wrote event ${event.seq} of run ${event.runId}`, {
    hint: "a second driver took over this run; let it finish, then check `upgrade-machine status`",
    cause,
  });
}

/** The error of an append by a driver whose lease another driver took over. */
export function leaseLostError(event: JournalEvent, target: string): UpgradeError {
  return new UpgradeError("E_BUSY", `lost the lease of ${target}: event ${event.seq} of run ${event.runId} was not written`, {
    hint: "another driver took the target over; this process stopped before its next step. Check `upgrade-machine status`",
  });
}
