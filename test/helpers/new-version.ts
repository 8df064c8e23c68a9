// New versions of the example blog that misbehave after they start, and a way to count the
// example's server processes: what the rollback's stopNewVersion step must cope with.
import { cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Example } from "./example.js";

/**
 * Adds a release (default 4.0.0) to the example: 2.0.0 (same migrations) whose server starts and
 * listens but answers 503 on /health; with `ignoreSigterm`, it also ignores SIGTERM.
 */
export function addUnhealthyRelease(ex: Example, options: { version?: string; ignoreSigterm?: boolean } = {}): string {
  const version = options.version ?? "4.0.0";
  const rel = join(ex.dir, "releases", version);
  cpSync(join(ex.dir, "releases", "2.0.0"), rel, { recursive: true, dereference: true });
  writeFileSync(join(rel, "VERSION"), `${version}\n`);
  const file = join(rel, "server.mjs");
  let src = readFileSync(file, "utf8");
  const replace = (from: string, to: string) => {
    if (!src.includes(from)) throw new Error(`server.mjs of 2.0.0 no longer contains ${JSON.stringify(from)}`);
    src = src.replace(from, to);
  };
  replace(
    `case "GET /health":\n      return send(res, 200, health());`,
    `case "GET /health":\n      return send(res, 503, { ...health(), status: "unhealthy" });`,
  );
  if (options.ignoreSigterm)
    replace(
      `process.on("SIGTERM", () => shutdown("SIGTERM"));`,
      `process.on("SIGTERM", () => console.log(\`blog \${VERSION}: ignoring SIGTERM\`));`,
    );
  writeFileSync(file, src);
  return version;
}

/** The pids of node processes running a release's server.mjs on the example's port. */
export function serverProcesses(port: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!/(^|\/)node$/.test(argv[0] ?? "") || !argv.some((a) => a.endsWith("server.mjs"))) continue;
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (env.includes(`BLOG_PORT=${port}`)) pids.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return pids;
}

/** Kills every server process of the example's port (started in the foreground, ctl.sh does not know them). */
export function killServers(port: number): void {
  for (const pid of serverProcesses(port)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}
