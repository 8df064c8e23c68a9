// The benchmark's stand-in for a service on a database server (PostgreSQL or MariaDB), and its
// control commands, the same for upgrade-machine and for the by-hand procedure:
//
//   node service.mjs <home> install <version>   writes <home>/VERSION (atomic rename): the "package"
//   node service.mjs <home> version             prints it
//   node service.mjs <home> start               starts the server detached, returns once /health answers
//   node service.mjs <home> stop                SIGTERM, returns once the process is gone (20 ms polls)
//
// <home>/service.json: {"url": "postgres://..." | "mysql://...", "port": N}. The server holds one
// connection to the database (as a real service does) and answers GET /health with 200 after a
// `SELECT 1` on it.
import { spawn } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [home, command, arg] = process.argv.slice(2);
if (!home || !command) {
  console.error("usage: service.mjs <home> install <v> | version | start | stop | serve");
  process.exit(2);
}
const conf = JSON.parse(readFileSync(join(home, "service.json"), "utf8"));
const pidFile = join(home, "service.pid");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidOf = () => {
  try {
    const pid = Number(readFileSync(pidFile, "utf8"));
    return pid > 0 && alive(pid) ? pid : null;
  } catch {
    return null;
  }
};

async function connect() {
  if (conf.url.startsWith("postgres")) {
    const { default: postgres } = await import("postgres");
    const sql = postgres(conf.url, { max: 1, onnotice: () => undefined, connection: { application_name: "bench-service" } });
    return { ping: () => sql`SELECT 1`, end: () => sql.end({ timeout: 1 }) };
  }
  const mysql = await import("mysql2/promise");
  const conn = await mysql.createConnection(conf.url);
  return { ping: () => conn.query("SELECT 1"), end: () => conn.end() };
}

async function serve() {
  const db = await connect();
  await db.ping();
  const server = http.createServer((_req, res) => {
    db.ping().then(
      () => res.writeHead(200).end("ok\n"),
      (err) => res.writeHead(503).end(`${err.message}\n`),
    );
  });
  server.listen(conf.port, "127.0.0.1");
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    db.end().finally(() => process.exit(0));
  });
}

async function healthy() {
  try {
    const res = await fetch(`http://127.0.0.1:${conf.port}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

if (command === "install") {
  writeFileSync(join(home, "VERSION.tmp"), `${arg}\n`);
  renameSync(join(home, "VERSION.tmp"), join(home, "VERSION"));
} else if (command === "version") {
  console.log(readFileSync(join(home, "VERSION"), "utf8").trim());
} else if (command === "serve") {
  await serve();
} else if (command === "start") {
  if (!pidOf()) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), home, "serve"], { detached: true, stdio: "ignore" });
    writeFileSync(pidFile, String(child.pid));
    child.unref();
    for (let i = 0; !(await healthy()); i++) {
      if (i > 1500 || !alive(child.pid)) {
        console.error("service did not start");
        process.exit(1);
      }
      await sleep(20);
    }
  }
} else if (command === "stop") {
  const pid = pidOf();
  if (pid) {
    process.kill(pid, "SIGTERM");
    while (alive(pid)) await sleep(20);
  }
  rmSync(pidFile, { force: true });
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
