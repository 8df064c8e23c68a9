import { listBackups, pruneBackups, type BackupInfo } from "../api.js";
import { UpgradeError } from "../errors.js";
import { defineCommand } from "./define.js";
import { EXIT } from "./io.js";

/** 1536 -> `1.5 KiB`: the bytes for a person (the exact number is printed beside it). */
export function humanBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${n.toFixed(1)} ${units[u]}`;
}

/** 93784 -> `1d 2h`: an age for a person. */
function humanAge(seconds: number | null): string {
  if (seconds === null) return "?";
  const [d, h, m] = [Math.floor(seconds / 86_400), Math.floor((seconds % 86_400) / 3600), Math.floor((seconds % 3600) / 60)];
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m` : `${seconds}s`;
}

function line(b: BackupInfo): string {
  const state = b.prunedAt ? `pruned ${b.prunedAt}` : b.intact === null ? "" : b.intact ? "ok" : "CORRUPT OR MISSING";
  const size = b.bytes === null ? "?" : humanBytes(b.bytes);
  return `${b.runId}  ${b.what.padEnd(13)}  ${size.padStart(10)}  ${humanAge(b.ageSeconds).padStart(7)}  ${b.path}${state ? `  ${state}` : ""}\n`;
}

/** `upgrade-machine backups`. */
export const backupsCommand = defineCommand({
  summary: "the backups in the state directory; exit 3 when one checked is corrupt or missing",
  details: [
    "Each line: run, what (database, restore point, file), size, age, path, and its state (`pruned <time>`, or with --verify `ok` / `CORRUPT OR MISSING`). With --json, one object per backup: runId, what, path, bytes, sha256, takenAt, ageSeconds, prunedAt, intact.",
  ],
  flags: {
    verify: { type: "boolean", help: "re-hash every backup and compare it with the journal's sha256" },
  },
  async run(args, io) {
    const list = await listBackups(args.config, { cwd: io.cwd, verify: args.verify });
    let bad = 0;
    for (const b of list) {
      if (b.intact === false) bad++;
      io.stdout.write(args.json ? `${JSON.stringify(b)}\n` : line(b));
    }
    if (!list.length && !args.json) io.stdout.write("no backups\n");
    return bad ? EXIT.failed : EXIT.ok;
  },
});

/** `upgrade-machine backups prune`. */
export const backupsPruneCommand = defineCommand({
  summary:
    "delete the backups of runs beyond the newest N (never an unfinished run's, nor the newest completed run's); prints what it freed",
  details: [
    "Each deleted run's backups are journaled as pruned (in that run's journal) before they are deleted; `backups` lists them as pruned. On PostgreSQL with the template strategy, a restore point's template database is dropped too.",
  ],
  flags: {
    keep: { type: "string", value: "N", required: true, help: "how many of the newest runs with backups keep them (at least 1)" },
    "older-than": {
      type: "string",
      value: "AGE",
      help: "delete only backups older than AGE: a whole number and s, m, h, d or w (30d, 12h)",
    },
  },
  async run(args, io) {
    if (!/^\d+$/.test(args.keep)) {
      throw new UpgradeError("E_USAGE", `--keep must be a whole number from 1, not "${args.keep}"`, { hint: "e.g. `--keep 5`" });
    }
    const r = await pruneBackups(args.config, { cwd: io.cwd, keep: Number(args.keep), olderThan: args["older-than"] ?? null });
    if (args.json) {
      for (const p of r.pruned) io.stdout.write(`${JSON.stringify({ type: "pruned", ...p })}\n`);
      for (const k of r.kept) io.stdout.write(`${JSON.stringify({ type: "kept", ...k })}\n`);
      io.stdout.write(`${JSON.stringify({ type: "freed", bytes: r.freedBytes })}\n`);
      return EXIT.ok;
    }
    for (const p of r.pruned) io.stdout.write(`pruned ${p.runId}: ${p.paths.length} backups, ${humanBytes(p.bytes)} (${p.bytes} B)\n`);
    for (const k of r.kept) io.stdout.write(`kept   ${k.runId}: ${k.why}\n`);
    io.stdout.write(`freed ${humanBytes(r.freedBytes)} (${r.freedBytes} B)\n`);
    return EXIT.ok;
  },
});
