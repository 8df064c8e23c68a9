import * as crypto from "node:crypto";
import { UpgradeError } from "../errors.js";
import type { JournalEvent, RunRecord } from "./types.js";

/** JSON with object keys sorted at every depth, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  // Plain loops: this runs on every append and every event of a replay.
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = "{";
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${out.length > 1 ? "," : ""}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

// One-shot sha256 where Node has it (20.12+): a third of createHash's cost for a short input.
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

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
  return sha256Hex(prevHash + body);
}

/**
 * Throws E_JOURNAL_TAMPERED at the first event whose seq or hash does not follow the chain;
 * from `events[from]` on, chained to `events[from - 1]` (a prefix verified before).
 */
export function verifyChain(events: readonly JournalEvent[], from = 0): void {
  let prev = from > 0 ? (events[from - 1]?.hash ?? "") : "";
  for (let index = from; index < events.length; index++) {
    const event = events[index]!;
    if (event.seq !== index) {
      throw new UpgradeError("E_JOURNAL_TAMPERED", `journal of run ${event.runId}: event ${index} has seq ${event.seq}`, {
        hint: `the journal was edited or truncated; inspect it with \`upgrade-machine history --run ${event.runId}\``,
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
  }
}

/**
 * Throws E_JOURNAL_TAMPERED when the run's head (its last seq and hash, moved by each append in
 * the same transaction) is not its last event: events were deleted from the end. A run written
 * before heads existed (null head) is not checked.
 */
export function verifyHead(run: RunRecord, events: readonly JournalEvent[]): void {
  if (run.lastSeq === null || run.lastSeq === undefined) return;
  const last = events[events.length - 1];
  if (last?.seq === run.lastSeq && last.hash === run.lastHash) return;
  throw new UpgradeError(
    "E_JOURNAL_TAMPERED",
    `journal of run ${run.runId}: its head is event ${run.lastSeq}, but ${last ? `the last event is ${last.seq}` : "it has no events"}`,
    {
      hint: "events were removed from the end of the run; do not resume it: restore the journal from a copy, or check the target by hand (`upgrade-machine backups` lists the restore points)",
      details: { runId: run.runId, head: run.lastSeq, last: last?.seq ?? null },
    },
  );
}
