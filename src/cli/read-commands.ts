import { plan, status } from "../api.js";
import { planLintLines } from "../lint/plan-lint.js";
import { defineCommand } from "./define.js";
import { EXIT } from "./io.js";
import { rehearsalLines } from "./plan-text.js";
import { downtimeLine } from "./render.js";

/** `upgrade-machine status`. */
export const statusCommand = defineCommand({
  summary: "the state of the latest run (none, running, completed, rolledBack, aborted, failed)",
  flags: {
    run: { type: "string", value: "ID", help: "the run to show (default: the latest run of the target)" },
  },
  async run(args, io) {
    const s = await status(args.config, { cwd: io.cwd, ...(args.run ? { runId: args.run } : {}) });
    if (args.json) {
      io.stdout.write(`${JSON.stringify(s)}\n`);
    } else if (s.state === "none") {
      io.stdout.write("no run yet\n");
    } else {
      const what = s.restoreOf ? `, a restore of run ${s.restoreOf}` : "";
      io.stdout.write(
        `run ${s.runId}: ${s.state}${s.step ? ` at ${s.step}` : ""} (${s.fromVersion ?? "?"} -> ${s.toVersion ?? "?"}${what})\n`,
      );
      io.stdout.write(`  ${downtimeLine(s.downtime)}\n`);
      if (s.state === "running") io.stdout.write("  unfinished: continue it with `upgrade-machine resume`\n");
    }
    return EXIT.ok;
  },
});

/** `upgrade-machine plan`. */
export const planCommand = defineCommand({
  summary: "the steps that would run, the pending migrations, the downtime estimate and the space; changes nothing",
  flags: {
    to: { type: "string", value: "VERSION", help: "the version the run would install" },
    rehearse: {
      type: "boolean",
      help: "rehearse the migrations now on a scratch copy of a hot backup (both dropped after); its time is the downtime estimate",
    },
  },
  async run(args, io) {
    const p = await plan(args.config, { cwd: io.cwd, toVersion: args.to ?? null, rehearse: args.rehearse === true });
    if (args.json) {
      io.stdout.write(`${JSON.stringify(p)}\n`);
      return EXIT.ok;
    }
    io.stdout.write(`installed: ${p.installedVersion ?? "unknown"}; target: ${p.toVersion ?? "(as the package commands decide)"}\n`);
    if (p.pendingMigrations)
      io.stdout.write(
        `pending migrations now: ${p.pendingMigrations.length ? p.pendingMigrations.join(", ") : "none"} (the new package may bring more)\n`,
      );
    for (const s of p.steps) io.stdout.write(`  ${s.action === "run" ? "run " : "skip"} ${s.step}${s.reason ? ` (${s.reason})` : ""}\n`);
    for (const note of p.notes) io.stdout.write(`database: ${note}\n`);
    if (p.lint) for (const line of planLintLines(p.lint)) io.stdout.write(`${line}\n`);
    for (const line of rehearsalLines(p)) io.stdout.write(`${line}\n`);
    return EXIT.ok;
  },
});
