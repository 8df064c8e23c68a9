import { constants } from "node:fs";
import { access, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { UpgradeError } from "../errors.js";
import { fsyncPath, tempPathBeside } from "../fs/durable.js";

/**
 * Checks, before a run starts, that a metrics file can be written at `file`: its folder exists,
 * is a folder and is writable, and `file` is not a folder.
 *
 * @throws UpgradeError E_USAGE otherwise (nothing was run).
 */
export async function checkMetricsFile(file: string): Promise<void> {
  const dir = dirname(file);
  const refuse = (why: string) =>
    new UpgradeError("E_USAGE", `--metrics-file ${file}: ${why}`, {
      hint: "name a file in an existing, writable folder (node_exporter's --collector.textfile.directory, for example)",
    });
  const folder = await stat(dir).catch(() => null);
  if (!folder?.isDirectory()) throw refuse(`the folder ${dir} does not exist`);
  if (
    await access(dir, constants.W_OK).then(
      () => false,
      () => true,
    )
  )
    throw refuse(`the folder ${dir} is not writable`);
  if ((await stat(file).catch(() => null))?.isDirectory()) throw refuse("it is a folder");
}

/**
 * Writes `text` to `file` atomically, as node_exporter's textfile collector expects: into a
 * hidden temporary file in the same folder (never read by the collector, which reads `*.prom`),
 * fsynced, then renamed over `file` and the folder fsynced. A reader sees the old file or the
 * new one, never a part.
 */
export async function writeTextfileAtomically(file: string, text: string): Promise<void> {
  const temp = tempPathBeside(file, "metrics");
  try {
    const handle = await open(temp, "wx", 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw new UpgradeError("E_USAGE", `the metrics file ${file} could not be written: ${(err as Error).message}`, {
      hint: "check the folder's permissions and free space; the run itself is not affected",
      cause: err,
    });
  }
  await fsyncPath(dirname(file));
}
