import { join } from "node:path";
import type { UpgradeContext } from "../../machines/index.js";
import { shellWord } from "../adapters/dialect.js";
import { manualRestore } from "../adapters/registry.js";
import type { ResolvedConfig } from "../config/types.js";
import type { FileCopy } from "../fs/files.js";
import type { LinkHop } from "../fs/links.js";
import { isUpgradeError } from "../errors.js";
import { safeUrl } from "../process/http.js";
import { maybeOutputOf } from "./output-of.js";
import type { PreflightOutput, SealOutput } from "./outputs.js";

const quote = shellWord;
const argv = (a: readonly string[], vars: Record<string, string | null>) =>
  a.map((x) => quote(x.replace(/\{(\w+)\}/g, (w, n: string) => vars[n] ?? w))).join(" ");
const relink = (links: readonly LinkHop[] | undefined) =>
  (links ?? []).map((l) => `restore a symbolic link: ln -sfn ${quote(l.target)} ${quote(l.path)}`);

/** The commands that put one backed-up file back: its links, then its real file with mode and owner. */
function fileCommands(f: FileCopy): string[] {
  const real = quote(f.realPath ?? f.path);
  const lines = relink(f.links);
  if (!f.exists || !f.backup) return [...lines, `remove a file that did not exist: rm -f ${real}`];
  const mode = f.mode != null ? ` && chmod ${f.mode.toString(8).padStart(4, "0")} ${real}` : "";
  const owner = f.uid != null && f.gid != null ? ` && chown ${f.uid}:${f.gid} ${real}` : "";
  return [...lines, `restore a file: cp ${quote(f.backup)} ${real}${owner}${mode}`];
}

/** The new version may still run: it must be stopped before anything is restored. */
function stopFirst(config: ResolvedConfig, details: Record<string, unknown> | undefined): string[] {
  const stop = config.service?.stop;
  const pid = details?.pid;
  const health = config.service?.health;
  return [
    "The new version may still be running: stop it first (kill its process if its stop does not work), and restore nothing while it runs.",
    ...(stop
      ? [
          `stop the new version: ${"http" in stop ? `send ${stop.http.method ?? "POST"} ${safeUrl(stop.http.url)} as service.stop configures it` : argv(stop.command, {})}`,
        ]
      : []),
    ...(typeof pid === "number" ? [`kill the process this run started, if it still runs: kill -KILL -- -${pid}`] : []),
    ...(health
      ? [`check that it is down: ${safeUrl(health.url)} must refuse connections (any HTTP answer, even 503, means it still runs)`]
      : []),
  ];
}

/** The outputs the instructions come from; when the journal holds them in a shape this version does not read, nothing is guessed. */
function outputsFor(
  config: ResolvedConfig,
  run: UpgradeContext,
): { seal?: SealOutput | undefined; pre?: PreflightOutput | undefined } | { unreadable: string[] } {
  try {
    return { seal: maybeOutputOf(run, "seal"), pre: maybeOutputOf(run, "preflight") };
  } catch (err) {
    if (!isUpgradeError(err, "E_JOURNAL_MISMATCH")) throw err;
    const folder = join(config.stateDir, "backups", run.runId ?? "");
    return {
      unreadable: [
        `${err.summary}.`,
        `Restore the database and the files by hand from the run's backup folder ${folder}, reinstall the previous version, then start it.`,
      ],
    };
  }
}

/**
 * What a person must do when the rollback itself failed: each remaining part of the rollback as
 * a command to run by hand, from the restore point and the config.
 */
export async function manualInstructions(config: ResolvedConfig, run: UpgradeContext): Promise<string[]> {
  const vars = { fromVersion: run.fromVersion, toVersion: run.toVersion };
  const lines: string[] = [];
  const failed = run.rollbackFailure;
  if (failed) lines.push(`The rollback failed at ${failed.step}: ${failed.error.code} ${failed.error.message}`);
  if (failed?.step === "stopNewVersion") lines.push(...stopFirst(config, failed.error.details));
  const read = outputsFor(config, run);
  if ("unreadable" in read) return [...lines, ...read.unreadable];
  const { seal, pre } = read;
  if (!seal) {
    lines.push("The service was not changed: start it again if it is down.");
    if (config.service?.start) lines.push(`start: ${argv(config.service.start.command, vars)}`);
    return lines;
  }
  const rp = seal.restorePoint;
  lines.push(`The restore point is ${rp.path} (sha256 ${rp.sha256}); it is kept until you delete it.`);
  lines.push(...relink(pre?.databaseFile?.links));
  lines.push(`restore the database: ${await manualRestore(config.target, rp, pre?.databaseFile?.realPath)}`);
  for (const f of seal.files) lines.push(...fileCommands(f));
  if (config.package?.downgrade && config.package.upgrade)
    lines.push(`reinstall the previous version: ${argv(config.package.downgrade.command, vars)}`);
  if (config.service?.start && pre?.serviceWasRunning !== false)
    lines.push(`start the service: ${argv(config.service.start.command, vars)}`);
  return lines;
}
