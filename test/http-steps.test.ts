import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";
import { upgrade } from "../src/api.js";

const SERVICE = resolve(import.meta.dirname, "fixtures/http/service.mjs");
const health = async (port: number) => {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { pid: number };
  } catch {
    return null;
  }
};

describe("HTTP steps against real HTTP services", () => {
  const received: { method: string; url: string; body: string }[] = [];
  let hook: Server;
  const pids: number[] = [];
  afterAll(async () => {
    hook?.close();
    for (const pid of pids) {
      try {
        process.kill(pid);
      } catch {
        /* already gone */
      }
    }
  });

  it("announces by webhook, stops by HTTP request, starts a foreground service detached, and checks its health", async () => {
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        received.push({ method: req.method!, url: req.url!, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(4341, "127.0.0.1", r));
    const dir = mkdtempSync(join(tmpdir(), "um-http-"));
    const Database = createRequire(import.meta.url)("better-sqlite3");
    const db = new Database(join(dir, "app.sqlite"));
    db.exec("CREATE TABLE t (id integer primary key, v text); INSERT INTO t (v) VALUES ('a'), ('b');");
    db.close();
    const port = 4342;
    const first = spawn(process.execPath, [SERVICE], { env: { ...process.env, PORT: String(port) }, detached: true, stdio: "ignore" });
    first.unref();
    pids.push(first.pid!);
    for (let i = 0; i < 50 && !(await health(port)); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await health(port))?.pid).toBe(first.pid);
    writeFileSync(
      join(dir, "upgrade.json"),
      JSON.stringify({
        name: "http-app",
        database: "sqlite:./app.sqlite",
        announce: { webhook: { url: "http://127.0.0.1:4341/announce", body: { text: "going down" } } },
        service: {
          stop: {
            http: { method: "POST", url: `http://127.0.0.1:${port}/shutdown`, headers: { authorization: "token s3cret-token" } },
            waitSeconds: 10,
          },
          start: { command: [process.execPath, SERVICE], env: { PORT: String(port) }, settleSeconds: 0.5 },
          health: { url: `http://127.0.0.1:${port}/health`, timeoutSeconds: 10 },
        },
      }),
    );
    const result = await upgrade(join(dir, "upgrade.json"));
    expect(result.state).toBe("completed");
    expect(received).toEqual([{ method: "POST", url: "/announce", body: JSON.stringify({ text: "going down" }) }]);
    const after = await health(port);
    expect(after).not.toBeNull();
    expect(after!.pid).not.toBe(first.pid); // the old process was shut down by the HTTP stop, a new one started
    pids.push(after!.pid);
    expect(() => process.kill(first.pid!, 0)).toThrow();
    const stop = result.steps.find((s) => s.step === "stop");
    expect(stop?.outcome).toBe("succeeded");
  });
});

describe("the stop waits for the service's process, not only its health URL", () => {
  const port = 4552;
  let dir = "";
  afterAll(() => {
    try {
      const pid = Number(readFileSync(join(dir, "service.pid"), "utf8"));
      process.kill(pid);
    } catch {
      /* already gone */
    }
  });

  it("ends after the process an earlier run started has exited, though its listener closed at once", async () => {
    dir = mkdtempSync(join(tmpdir(), "um-sc-stop-"));
    // On SIGTERM: the listener closes at once, the process lingers 400 ms (flushing its database), then exits.
    writeFileSync(
      join(dir, "service.mjs"),
      `import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
writeFileSync("service.pid", String(process.pid));
const server = createServer((req, res) => res.end("{}")).listen(${port}, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  setTimeout(() => { writeFileSync("exited-at", String(Date.now())); process.exit(0); }, 400);
});
`,
    );
    const Database = createRequire(import.meta.url)("better-sqlite3");
    const db = new Database(join(dir, "app.sqlite"));
    db.exec("CREATE TABLE t (id integer primary key, v text); INSERT INTO t (v) VALUES ('a');");
    db.close();
    writeFileSync(
      join(dir, "upgrade.json"),
      JSON.stringify({
        name: "lingering-app",
        database: "sqlite:./app.sqlite",
        service: {
          stop: { command: ["sh", "-c", "kill $(cat service.pid)"] },
          start: { command: [process.execPath, "service.mjs"], settleSeconds: 0.3 },
          health: { url: `http://127.0.0.1:${port}/health`, timeoutSeconds: 10 },
        },
      }),
    );
    const first = spawn(process.execPath, ["service.mjs"], { cwd: dir, detached: true, stdio: "ignore" });
    first.unref();
    for (let i = 0; i < 50 && !(await health(port)); i++) await new Promise((r) => setTimeout(r, 100));
    // The first run stops a service nobody recorded: it starts the next one and records its pid.
    expect((await upgrade(join(dir, "upgrade.json"))).state).toBe("completed");
    const recorded = Number(readFileSync(join(dir, "service.pid"), "utf8"));
    expect(recorded).not.toBe(first.pid);
    const second = await upgrade(join(dir, "upgrade.json"));
    expect(second.state).toBe("completed");
    const stop = second.steps.find((s) => s.step === "stop")!;
    expect(stop.outcome).toBe("succeeded");
    // The stop ended only once the recorded process had exited, not when its listener closed.
    expect(Date.parse(stop.finishedAt!)).toBeGreaterThanOrEqual(Number(readFileSync(join(dir, "exited-at"), "utf8")));
    expect(() => process.kill(recorded, 0)).toThrow();
  });
});
