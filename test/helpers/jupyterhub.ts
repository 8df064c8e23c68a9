import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import postgres from "postgres";
import { FAKE_PIP } from "./jupyterhub-release.js";

const exec = promisify(execFile);
/** Debian's interpreter: the `python3` on PATH may be another one, without JupyterHub. */
export const PYTHON = "/usr/bin/python3";
/** The environment variable the preset reads the API token from, in these tests. */
export const TOKEN_ENV = "UM_TEST_JUPYTERHUB_TOKEN";
/** The version the fake release reports, and the alembic revision it adds. */
export const NEW_VERSION = "3.0.0+um1";
export const NEW_REVISION = "a1b2c3d4e5f6";
const PG = { host: "127.0.0.1", port: 5432, user: "postgres" };

/** Whether Debian's JupyterHub, alembic and the proxy are installed. */
export function jupyterhubInstalled(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import jupyterhub, alembic"], { stdio: "ignore" });
    return existsSync("/usr/bin/jupyterhub") && existsSync("/usr/bin/alembic") && existsSync("/usr/bin/configurable-http-proxy");
  } catch {
    return false;
  }
}

/** Whether the local PostgreSQL server (127.0.0.1:5432, user postgres, trust) answers, and psycopg2 is there. */
export async function postgresReady(): Promise<boolean> {
  const sql = postgres({ ...PG, database: "postgres", max: 1, connect_timeout: 3, onnotice: () => undefined });
  try {
    await sql`SELECT 1`;
    execFileSync(PYTHON, ["-c", "import psycopg2"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number): boolean => {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
};

/** Who is in which group, and which groups each user has: what must survive an upgrade. */
export interface Membership {
  users: Record<string, string[]>;
  groups: Record<string, string[]>;
}

/** A JupyterHub in a temp dir, on free ports, with its own database and API token. */
export class TestHub {
  readonly dir = mkdtempSync(join(tmpdir(), "um-jhub-"));
  readonly token = randomBytes(24).toString("hex");
  /** Where the fake release is installed; on PYTHONPATH of every command of the upgrade. */
  readonly site = join(this.dir, "site");
  readonly pgDatabase: string | null;
  readonly url: string;

  private constructor(
    readonly db: "sqlite" | "postgres",
    private readonly ports: { proxy: number; hub: number; api: number },
  ) {
    this.url = `http://127.0.0.1:${ports.proxy}`;
    this.pgDatabase = db === "postgres" ? `um_jhub_${randomBytes(4).toString("hex")}` : null;
  }

  /** Creates the Hub's files (and its PostgreSQL database); the Hub is not started. */
  static async create(db: "sqlite" | "postgres"): Promise<TestHub> {
    const hub = new TestHub(db, { proxy: await freePort(), hub: await freePort(), api: await freePort() });
    if (hub.pgDatabase) await hub.pg((sql) => sql.unsafe(`CREATE DATABASE "${hub.pgDatabase}"`));
    writeFileSync(join(hub.dir, "jupyterhub_config.py"), hub.hubConfig());
    writeFileSync(join(hub.dir, "fake-pip.py"), FAKE_PIP);
    return hub;
  }

  /** JupyterHub's `db_url` (SQLAlchemy form). */
  get dbUrl(): string {
    return this.pgDatabase ? `postgresql://${PG.user}@${PG.host}:${PG.port}/${this.pgDatabase}` : "sqlite:///jupyterhub.sqlite";
  }

  readonly sqlitePath = join(this.dir, "jupyterhub.sqlite");
  /** The environment of every command of the upgrade: the fake release, when installed, comes first. */
  readonly env = { PYTHONPATH: this.site };

  private hubConfig(): string {
    return [
      "c = get_config()  # noqa",
      `c.JupyterHub.bind_url = "${this.url}"`,
      `c.JupyterHub.hub_bind_url = "http://127.0.0.1:${this.ports.hub}"`,
      `c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${this.ports.api}"`,
      'c.ConfigurableHTTPProxy.command = ["env", "NODE_PATH=/usr/share/nodejs", "configurable-http-proxy"]',
      'c.JupyterHub.authenticator_class = "dummy"',
      'c.JupyterHub.spawner_class = "simple"',
      `c.JupyterHub.db_url = "${this.dbUrl}"`,
      'c.JupyterHub.pid_file = "jupyterhub.pid"',
      `c.JupyterHub.services = [{"name": "upgrader", "api_token": "${this.token}"}]`,
      'c.JupyterHub.load_roles = [{"name": "admin", "services": ["upgrader"]}]',
      "",
    ].join("\n");
  }

  /** Runs `fn` on the server's maintenance database. */
  async pg<T>(fn: (sql: postgres.Sql) => Promise<T>, database = "postgres"): Promise<T> {
    const sql = postgres({ ...PG, database, max: 1, onnotice: () => undefined });
    try {
      return await fn(sql);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  /** Starts the Hub detached (as a service manager would) and waits until it answers. */
  async start(): Promise<void> {
    const log = openSync(join(this.dir, "hub-test.log"), "a");
    const child = spawn("jupyterhub", ["-f", "jupyterhub_config.py"], {
      cwd: this.dir,
      env: { ...process.env, ...this.env },
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    child.unref();
    const deadline = Date.now() + 60_000;
    while (!(await this.version())) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`the test Hub did not start:\n${readFileSync(join(this.dir, "hub-test.log"), "utf8").slice(-2000)}`);
      await sleep(200);
    }
  }

  /** Starts the Hub in the foreground, expecting it to refuse; returns its output. */
  async startRefused(): Promise<string> {
    try {
      await exec("jupyterhub", ["-f", "jupyterhub_config.py"], { cwd: this.dir, env: { ...process.env, ...this.env }, timeout: 60_000 });
    } catch (err) {
      return `${(err as { stdout?: string }).stdout ?? ""}${(err as { stderr?: string }).stderr ?? ""}`;
    }
    throw new Error("the Hub started although it should have refused");
  }

  /** The version `GET /hub/api/` answers, or null when the Hub does not answer. */
  async version(): Promise<string | null> {
    try {
      const res = await fetch(`${this.url}/hub/api/`, { signal: AbortSignal.timeout(2_000) });
      return res.status === 200 ? ((await res.json()) as { version: string }).version : null;
    } catch {
      return null;
    }
  }

  /** A REST call with the service token. */
  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/hub/api${path}`, {
      method,
      headers: { authorization: `token ${this.token}` },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? null : await res.json()) as T;
  }

  /** Users and groups, created through the REST API. */
  async seed(): Promise<Membership> {
    await this.api("POST", "/users", { usernames: ["alice", "bob", "carol", "dave", "erin"] });
    await this.api("POST", "/groups/staff", { users: ["alice", "bob"] });
    await this.api("POST", "/groups/students", { users: ["carol", "dave", "erin"] });
    await this.api("POST", "/groups/empty");
    return this.membership();
  }

  /** Who is in which group, as the running Hub serves it. */
  async membership(): Promise<Membership> {
    const users = await this.api<{ name: string; groups: string[] }[]>("GET", "/users");
    const groups = await this.api<{ name: string; users: string[] }[]>("GET", "/groups");
    return {
      users: Object.fromEntries(users.map((u) => [u.name, [...u.groups].sort()])),
      groups: Object.fromEntries(groups.map((g) => [g.name, [...g.users].sort()])),
    };
  }

  /** Shuts the Hub (and its proxy) down through the API and waits for its process to exit. */
  async shutdown(): Promise<void> {
    const pid = this.pid("jupyterhub.pid");
    await this.api("POST", "/shutdown", { servers: true, proxy: true });
    while (pid !== null && alive(pid)) await sleep(100);
    while (await this.version()) await sleep(100);
  }

  private pid(file: string): number | null {
    const path = join(this.dir, file);
    const pid = existsSync(path) ? Number(readFileSync(path, "utf8").trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  /** The database's `alembic_version`. */
  async revision(): Promise<string | null> {
    if (this.pgDatabase) {
      const rows = await this.pg((sql) => sql<{ version_num: string }[]>`SELECT version_num FROM alembic_version`, this.pgDatabase);
      return rows[0]?.version_num ?? null;
    }
    const db = new Database(this.sqlitePath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT version_num FROM alembic_version").get() as { version_num: string } | undefined)?.version_num ?? null;
    } finally {
      db.close();
    }
  }

  /** The SQLite database as SQL text (Python's `iterdump`): schema and every row, independent of upgrade-machine. */
  async sqliteDump(): Promise<string> {
    const script = "import sqlite3, sys\nprint('\\n'.join(sqlite3.connect(sys.argv[1]).iterdump()))";
    return (await exec(PYTHON, ["-E", "-c", script, this.sqlitePath], { maxBuffer: 64 << 20 })).stdout;
  }

  /** Moves the database one alembic revision back with JupyterHub's own alembic environment. */
  async downgrade(): Promise<void> {
    const script = [
      "import sys, subprocess",
      "from jupyterhub.dbutil import _temp_alembic_ini",
      "with _temp_alembic_ini(sys.argv[1]) as ini:",
      "    subprocess.check_call(['alembic', '-c', ini, 'downgrade', '-1'])",
    ].join("\n");
    const { PYTHONPATH: _ignored, ...env } = process.env;
    await exec(PYTHON, ["-E", "-c", script, this.dbUrl], { cwd: this.dir, env });
  }

  /** Installs the fake new release, as `pip install -U jupyterhub` would ("failing": its migration raises). */
  async install(kind: "good" | "failing"): Promise<void> {
    await exec(PYTHON, ["-E", join(this.dir, "fake-pip.py"), "install", this.site, kind], { cwd: this.dir });
  }

  /** Writes `upgrade.json` for the preset; returns its path. */
  writeUpgradeConfig(release: "good" | "failing" | "installed" = "installed"): string {
    const pip = (...args: string[]) => ({ command: [PYTHON, "-E", "./fake-pip.py", ...args] });
    const config = {
      name: "hub",
      preset: "jupyterhub",
      env: this.env,
      jupyterhub: {
        configFile: "./jupyterhub_config.py",
        dbUrl: this.dbUrl,
        workingDir: ".",
        hubUrl: this.url,
        apiTokenEnv: TOKEN_ENV,
        start: { command: ["jupyterhub", "-f", "jupyterhub_config.py"] },
        pidFile: "jupyterhub.pid",
        healthTimeoutSeconds: 60,
      },
      package:
        release === "installed"
          ? { version: { command: ["jupyterhub", "--version"] } }
          : { upgrade: pip("install", this.site, release), downgrade: pip("remove", this.site) },
    };
    const path = join(this.dir, "upgrade.json");
    writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
    return path;
  }

  /** Every row of the run journal, as text (to search it for secrets). */
  journalText(): string {
    const db = new Database(join(this.dir, ".upgrade", "journal.sqlite"), { readonly: true });
    try {
      return JSON.stringify(db.prepare("SELECT * FROM upgrade_machine_events ORDER BY run_id, seq").all());
    } finally {
      db.close();
    }
  }

  /** Kills every process the Hub left (Hub and proxy, by their pid files) and removes everything. */
  async cleanup(): Promise<void> {
    for (const file of ["jupyterhub.pid", "jupyterhub-proxy.pid"]) {
      const pid = this.pid(file);
      if (pid !== null && alive(pid)) process.kill(pid, "SIGKILL");
    }
    if (this.pgDatabase) {
      await this.pg(async (sql) => {
        const rows = await sql<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname LIKE ${`${this.pgDatabase}%`}`;
        for (const r of rows) await sql.unsafe(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
      }).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
