import { open } from "node:fs/promises";
import { UpgradeError } from "../../errors.js";
import { describeTarget } from "../../url.js";
import { checkBackupName, dumpToFile } from "../external/dump-file.js";
import type { BackupArtifact, CopyOptions } from "../types.js";
import { mysqlToolArgs, mysqlToolEnv, type MysqlTarget } from "./connection.js";
import { classifyMysqlToolFailure, type MysqlServerVersion, type MysqlTool } from "./tools.js";

/** The `format` of artifacts written by `backupMysql`. */
export const MYSQL_DUMP_FORMAT = "mysqldump-sql";

/** What the first line of a dump records about the database (the dump itself names none). */
export interface DumpHeader {
  database: string;
  charset: string;
  collation: string;
}

const HEADER_PREFIX = "-- upgrade-machine: ";

/**
 * The argv of a consistent, complete dump of one database (without CREATE DATABASE / USE, so it
 * loads into any name). Not `--no-autocommit`: one transaction per table made loading the shop
 * benchmark about 1.5x slower on MariaDB 10.11.
 */
export function dumpArgv(tool: MysqlTool, server: MysqlServerVersion, target: MysqlTarget): [string, ...string[]] {
  const argv: [string, ...string[]] = [
    tool.path,
    ...mysqlToolArgs(target, tool.flavour),
    "--single-transaction",
    "--routines",
    "--triggers",
    "--events",
    "--hex-blob",
    "--no-tablespaces",
    "--default-character-set=utf8mb4",
  ];
  if (tool.flavour === "mysql") {
    argv.push("--set-gtid-purged=OFF");
    if (server.flavour === "mariadb") argv.push("--column-statistics=0");
  }
  argv.push("--", target.database);
  return argv;
}

/**
 * Dumps the database with `mariadb-dump` / `mysqldump --single-transaction --routines --triggers
 * --events` (a consistent InnoDB snapshot, writers not blocked), streamed into `<dir>/<name>.sql`
 * with its sha256 computed on the way: a temporary name then a rename, 0600 in a 0700 directory,
 * progress in bytes. The first line, a SQL comment, records the database's character set and
 * collation for the restore. The tool reads no option file (`--no-defaults`: a `[mysqldump]
 * no-data` in someone's `~/.my.cnf` must not empty the restore point); the password goes
 * through MYSQL_PWD, never argv.
 *
 * @throws UpgradeError E_TOOL_MISSING, E_AUTH, E_CONNECT, E_NOT_FOUND, E_DISK_FULL or E_BACKUP;
 * the database is never changed and nothing is left behind.
 */
export async function backupMysql(
  target: MysqlTarget,
  tool: MysqlTool,
  server: MysqlServerVersion,
  header: DumpHeader,
  dir: string,
  name: string,
  options: CopyOptions = {},
): Promise<BackupArtifact> {
  checkBackupName(name);
  const run = {
    argv: dumpArgv(tool, server, target),
    env: mysqlToolEnv(target),
    secrets: [target.password ?? ""],
    classify: classifyMysqlToolFailure(tool.path, describeTarget(target), "E_BACKUP"),
  };
  return dumpToFile(run, dir, `${name}.sql`, MYSQL_DUMP_FORMAT, { ...options, header: `${HEADER_PREFIX}${JSON.stringify(header)}\n` });
}

/** Reads the header line of a dump written by `backupMysql`. */
export async function readDumpHeader(path: string): Promise<DumpHeader> {
  const notOurs = (why: string, cause?: unknown) =>
    new UpgradeError("E_RESTORE", `${path} was not written by upgrade-machine's MySQL backup (${why})`, {
      hint: "load it by hand with the mariadb / mysql client; the database was not changed",
      cause,
    });
  const handle = await open(path, "r").catch((err: unknown) => {
    throw new UpgradeError("E_RESTORE", `backup ${path} cannot be read: ${(err as Error).message}`, {
      hint: "check that the backup file exists and is readable (the database was not changed)",
      cause: err,
    });
  });
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const line = buf.subarray(0, bytesRead).toString("utf8").split("\n", 1)[0] ?? "";
    if (!line.startsWith(HEADER_PREFIX)) throw notOurs("no header line");
    let header: DumpHeader;
    try {
      header = JSON.parse(line.slice(HEADER_PREFIX.length)) as DumpHeader;
    } catch (err) {
      throw notOurs((err as Error).message, err);
    }
    // They are written into SQL unquoted: only plain names are accepted.
    if (!/^\w+$/.test(header.charset) || !/^\w+$/.test(header.collation)) throw notOurs("bad character set or collation");
    return header;
  } catch (err) {
    throw err instanceof UpgradeError ? err : notOurs((err as Error).message, err);
  } finally {
    await handle.close();
  }
}
