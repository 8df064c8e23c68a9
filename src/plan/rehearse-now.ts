import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseAdapter } from "../adapters/types.js";
import { isUpgradeError } from "../errors.js";
import type { BackupOutput, RehearseOutput } from "../steps/outputs.js";
import { toJson } from "../steps/output-of.js";
import { rehearsalSkip, rehearse } from "../steps/rehearse.js";
import type { StepContext } from "../steps/types.js";

/** What `plan --rehearse` found: the rehearsal's output, why it did not run, or its failure. */
export type RehearsalNow =
  | ({ outcome: "passed" } & RehearseOutput)
  | { outcome: "skipped"; reason: string }
  | { outcome: "failed"; error: { code: string; message: string; hint?: string } };

/**
 * A rehearsal now, outside any run: a hot backup into a temporary folder, the rehearse step's own
 * effect on it (scratch copy, migrations, drop), then the backup dropped and the folder removed,
 * whatever happened. The live database is only read.
 */
export async function rehearseNow(ctx: StepContext, db: DatabaseAdapter): Promise<RehearsalNow> {
  const early = rehearsalSkip(ctx);
  if (early) return { outcome: "skipped", reason: early };
  const dir = await mkdtemp(join(tmpdir(), "upgrade-machine-rehearse-"));
  let artifact: Awaited<ReturnType<DatabaseAdapter["hotBackup"]>> | undefined;
  try {
    artifact = await db.hotBackup(dir, "database-hot", { signal: ctx.signal });
    if ("skipped" in artifact) return { outcome: "skipped", reason: `not rehearsed: no hot backup can be taken now (${artifact.skipped})` };
    const backup: BackupOutput = { database: { ...artifact, fingerprint: null }, files: [] };
    const run = { ...ctx.run, outputs: { ...ctx.run.outputs, backup: toJson(backup) } };
    const out = await rehearse.run({ ...ctx, step: "rehearse", run, backupDir: dir, runId: `plan-${Date.now()}-${process.pid}` });
    return { outcome: "passed", ...out };
  } catch (err) {
    if (!isUpgradeError(err)) throw err;
    return { outcome: "failed", error: { code: err.code, message: err.summary, ...(err.hint ? { hint: err.hint } : {}) } };
  } finally {
    if (artifact && !("skipped" in artifact)) await db.dropBackup(artifact).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
