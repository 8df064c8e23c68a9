import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { startNpmMajors } from "./helpers/pg-npm-majors.js";

/**
 * Builds dist/ once, so tests that run the real CLI as a child process run today's code; starts
 * the PostgreSQL servers of the major matrix (14, 16, 17, 18) meanwhile, and stops them at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = startNpmMajors();
  await promisify(execFile)("npx", ["tsup", "--silent"]);
  const { majors, stop } = await servers;
  for (const m of majors) {
    if (m.missing) console.warn(`!! PostgreSQL ${m.major}: ${m.missing}`);
    else console.log(`PostgreSQL ${m.major} for the tests at ${m.adminUrl} (${m.source})`);
  }
  project.provide("pgMajors", majors);
  return stop;
}
