import { createHash } from "node:crypto";
import { UpgradeError } from "../errors.js";
import type { JournalEvent } from "./types.js";

/** JSON with object keys sorted at every depth, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The hash of an event given the hash of the event before it ("" for the first). */
export function eventHash(prevHash: string, event: Omit<JournalEvent, "hash">): string {
  const body = canonicalJson({
    runId: event.runId,
    seq: event.seq,
    type: event.type,
    step: event.step,
    payload: event.payload,
    at: event.at,
  });
  return createHash("sha256").update(prevHash).update(body).digest("hex");
}

/** Throws E_JOURNAL_TAMPERED at the first event whose seq or hash does not follow the chain. */
export function verifyChain(events: readonly JournalEvent[]): void {
  let prev = "";
  events.forEach((event, index) => {
    if (event.seq !== index) {
      throw new UpgradeError("E_JOURNAL_TAMPERED", `journal of run ${event.runId}: event ${index} has seq ${event.seq}`, {
        hint: "the journal was edited or truncated; inspect it with `upgrade-machine history --run " + event.runId + "`",
        details: { runId: event.runId, seq: index },
      });
    }
    const expected = eventHash(prev, event);
    if (expected !== event.hash) {
      throw new UpgradeError(
        "E_JOURNAL_TAMPERED",
        `journal of run ${event.runId}: event ${event.seq} (${event.type}) does not match its hash`,
        {
          hint: "an event was changed after it was written; restore the journal from a copy or finish the run by hand",
          details: { runId: event.runId, seq: event.seq },
        },
      );
    }
    prev = event.hash;
  });
}
