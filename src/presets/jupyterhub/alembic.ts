import { constants } from "node:fs";
import { access, open } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { UpgradeError } from "../../errors.js";
import { runCommand } from "../../process/command.js";
import { openAdapter } from "../../adapters/registry.js";
import type { DatabaseTarget } from "../../url.js";

function unreadable(err: unknown): UpgradeError {
  return new UpgradeError("E_CONNECT", `cannot read alembic_version: ${(err as Error).message}`, {
    hint: "check that jupyterhub.dbUrl names JupyterHub's database and that it is reachable",
    cause: err,
  });
}

/**
 * The alembic revision JupyterHub's database is at (`alembic_version.version_num`), or null
 * when the table does not exist. Read-only, through the target's own adapter.
 */
export async function readAlembicRevision(target: DatabaseTarget): Promise<string | null> {
  const db = await openAdapter(target);
  try {
    return (await db.readValue("alembic_version", "version_num")) ?? null;
  } catch (err) {
    if (err instanceof UpgradeError && err.code !== "E_CONNECT") throw err;
    throw unreadable(err);
  } finally {
    await db.close();
  }
}

async function findProgram(program: string, path: string): Promise<string | null> {
  const candidates = program.includes("/")
    ? [program]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const file of candidates) {
    if (
      await access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return null;
}

/** The interpreter of a Python script's `#!` line (`#!/usr/bin/env python3` too), or null. */
export async function interpreterOf(program: string, path = process.env.PATH ?? ""): Promise<string[] | null> {
  const file = await findProgram(program, path);
  if (!file) return null;
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0);
    const first = buffer.subarray(0, bytesRead).toString("utf8").split("\n")[0] ?? "";
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!m?.[1] || !/python/.test(first)) return null;
    return m[2] !== undefined ? [m[1], m[2]] : [m[1]];
  } finally {
    await handle.close();
  }
}

const HEAD_SCRIPT = [
  "import os, jupyterhub",
  "from alembic.script import ScriptDirectory",
  "print(ScriptDirectory(os.path.join(os.path.dirname(jupyterhub.__file__), 'alembic')).get_current_head())",
].join("\n");

/**
 * The alembic head the installed JupyterHub expects, read by its own Python from its own
 * migration scripts; null with the reason when that cannot be done (then the Hub's own check
 * at start is the proof).
 */
export async function installedHead(
  python: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ head: string | null; why?: string }> {
  const [program, ...args] = python;
  if (!program) return { head: null, why: "no Python interpreter" };
  const result = await runCommand({ argv: [program, ...args, "-c", HEAD_SCRIPT], cwd, env, timeoutMs: 60_000 }).catch((err: Error) => err);
  if (result instanceof Error) return { head: null, why: result.message };
  const line = result.stdout.trim().split("\n").at(-1)?.trim() ?? "";
  if (result.exitCode !== 0 || !/^[0-9a-f]{6,40}$/.test(line)) {
    return {
      head: null,
      why: `${python.join(" ")} exited with ${result.exitCode}: ${(result.stderr.trim().split("\n").at(-1) ?? "").slice(0, 300)}`,
    };
  }
  return { head: line };
}
