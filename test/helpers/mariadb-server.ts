// A throw-away MariaDB server for tests that need a server nobody else writes to (InnoDB's log
// sequence number is server-wide): mariadb-install-db in a temporary folder, mariadbd on a port of
// its own (as root when we are root: --user=root), stopped and removed at the end.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";

const exec = promisify(execFile);

/** A running private MariaDB. */
export interface PrivateMariadb {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/mysql` (root, empty password). */
  adminUrl: string;
  stop(): Promise<void>;
}

const SERVER = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].find((p) => existsSync(p));
const INSTALL = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"].find((p) => existsSync(p));

/** Why no private MariaDB can be started here, or null. */
export function privateMariadbMissing(): string | null {
  return SERVER && INSTALL ? null : "mariadbd or mariadb-install-db is not installed";
}

/** Starts a private MariaDB on `port` (fails when the port is taken). */
export async function startPrivateMariadb(port: number): Promise<PrivateMariadb> {
  if (!SERVER || !INSTALL) throw new Error(privateMariadbMissing() ?? "");
  const dir = mkdtempSync(join(tmpdir(), "um-test-mariadb-"));
  const datadir = join(dir, "data");
  const asRoot = process.getuid?.() === 0 ? ["--user=root"] : [];
  await exec(INSTALL, ["--no-defaults", `--datadir=${datadir}`, ...asRoot, "--auth-root-authentication-method=normal", "--skip-test-db"]);
  const child: ChildProcess = spawn(
    SERVER,
    [
      "--no-defaults",
      `--datadir=${datadir}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${join(dir, "mysqld.sock")}`,
      `--pid-file=${join(dir, "mysqld.pid")}`,
      "--skip-log-bin",
      "--innodb-buffer-pool-size=64M",
      ...asRoot,
    ],
    { stdio: "ignore" },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const adminUrl = `mysql://root@127.0.0.1:${port}/mysql`;
  for (let i = 0; ; i++) {
    try {
      const conn = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", connectTimeout: 1000 });
      await conn.end();
      return { port, adminUrl, stop };
    } catch (err) {
      if (child.exitCode !== null || i > 150) {
        await stop();
        throw new Error(`the private MariaDB on port ${port} did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
