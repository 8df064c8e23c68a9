// Hostile inputs of issue 8, items 7-9, through the real CLI on a running example: versions that
// are not versions (from --to or printed by a command), a service that answers 503, and
// timeouts that are out of range or end a command with children.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { BAD_SECONDS } from "./fixtures/configs.js";
import { hostileSuite, type CaseTools, type HostileCase, type Outcome, type World } from "./helpers/hostile.js";

/** Alive and not a zombie (orphans stay zombies here: PID 1 does not reap). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const LONG = `1${"0".repeat(64)}`; // 65 characters

/** A bad `--to`: refused before any run, nothing journaled. */
function badTo(name: string, value: string, command = "run"): HostileCase {
  return {
    name: `${command} --to=${JSON.stringify(value)} (${name})`,
    item: 8,
    act: (t) => t.cli([command, `--to=${value}`]),
    exit: 2,
    code: "E_USAGE",
  };
}

/** package.version prints `stdout` (and exits 0): preflight refuses, the run aborts. */
function badPrintedVersion(name: string, script: string): HostileCase {
  return {
    name: `package.version ${name}`,
    item: 7,
    arrange: (t) => t.config((c) => (c.package.version = { command: ["/bin/sh", "-c", script] })),
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 1,
    code: "E_PREFLIGHT",
    state: "aborted",
    journals: true,
  };
}

/** An out-of-range seconds field: E_CONFIG naming it, before anything runs. */
function badSeconds(field: string, value: unknown, put: (c: any, v: unknown) => void): HostileCase {
  return {
    name: `${field}: ${JSON.stringify(value)}`,
    item: 9,
    arrange: (t) => t.config((c) => put(c, value)),
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 2,
    code: "E_CONFIG",
    check: (_t, o) => expect(o.last?.message).toContain(field),
  };
}

/** A version command that prints the real version, except `printed` once 2.0.0 is installed. */
function versionAfterUpgrade(t: CaseTools, printed: string): void {
  const script = join(t.ex.dir, "version.sh");
  writeFileSync(
    script,
    `#!/bin/sh\nv=$("$(dirname "$0")/ctl.sh" version) || exit 1\nif [ "$v" = 2.0.0 ]; then printf '%s' '${printed}'; else echo "$v"; fi\n`,
  );
  chmodSync(script, 0o755);
  t.config((c) => (c.package.version = { command: ["./version.sh"] }));
}

/**
 * After a rollback: the database (by fingerprint: a restore writes other bytes for the same
 * content), the files and the version are as before; a service runs again.
 */
function restored(t: CaseTools, before: World, after: World): void {
  const db = (w: World) => ({ ...w, pid: null, journal: null, files: { ...w.files, [t.ex.db]: { ...w.files[t.ex.db]!, sha256: null } } });
  expect(db(after)).toEqual(db(before));
  expect(after.pid).not.toBeNull();
  expect(after.version).toBe("1.0.0");
}

function stepOutcome(o: Outcome, step: string): string | undefined {
  return (o.last?.steps as { step: string; outcome: string }[] | undefined)?.find((s) => s.step === step)?.outcome;
}

const cases: HostileCase[] = [
  badTo("an option for the package manager", "--force"),
  badTo("a path out of the releases", "../../x"),
  badTo("a space", " "),
  badTo("a command substitution", "$(id)"),
  badTo("empty", ""),
  badTo("65 characters", LONG),
  badTo("a second line", "2.0.0\n--force"),
  badTo("an option, through plan", "--force", "plan"),

  badPrintedVersion("prints nothing", "true"),
  badPrintedVersion("prints only blank lines", "printf '\\n  \\n\\n'"),
  badPrintedVersion("prints `1.0.0 (build 7)`", "echo '1.0.0 (build 7)'"),
  badPrintedVersion("prints an error text", "echo 'error: cannot read /opt/blog/VERSION: permission denied'"),
  badPrintedVersion("prints a 65-character version", `echo ${LONG}`),

  {
    name: "a running service whose health URL answers 503: the stop runs, the old process is stopped",
    item: 7,
    async arrange(t) {
      // release 1.0.0 of this copy is degraded: its /health answers 503; the upgrade fixes it
      const server = join(t.ex.dir, "releases", "1.0.0", "server.mjs");
      const code = readFileSync(server, "utf8");
      const patched = code.replace("return send(res, 200, health());", 'return send(res, 503, { ...health(), status: "degraded" });');
      expect(patched).not.toBe(code);
      writeFileSync(server, patched);
      await t.ex.ctl("stop");
      expect((await t.ex.ctl("start")).code).toBe(0);
      expect((await fetch(`http://127.0.0.1:${t.ex.port}/health`)).status).toBe(503);
    },
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 0,
    code: null,
    state: "completed",
    unchanged: false,
    check(_t, o, before, after) {
      expect(stepOutcome(o, "stop")).toBe("succeeded");
      expect(before.pid).not.toBeNull();
      expect(alive(before.pid!)).toBe(false);
      expect(after.pid).not.toBeNull();
      expect(after.version).toBe("2.0.0");
    },
  },

  ...BAD_SECONDS.map(([field, value, put]) => badSeconds(field, value, put)),

  {
    name: "a verify command that times out while its children hold the pipes: rolled back within seconds, children ended",
    item: 9,
    arrange(t) {
      const pids = join(t.ex.dir, "verify.pids");
      t.config((c) => {
        c.verify = [
          {
            command: ["/bin/sh", "-c", `echo $$ > ${pids}; sleep 60 & echo $! >> ${pids}; sh -c 'sleep 60' & echo $! >> ${pids}; wait`],
            timeoutSeconds: 1,
          },
        ];
      });
    },
    async act(t) {
      const started = Date.now();
      const o = await t.cli(["run", "--to", "2.0.0"]);
      (o as Outcome & { ms: number }).ms = Date.now() - started;
      return o;
    },
    exit: 1,
    code: "E_TIMEOUT",
    state: "rolledBack",
    unchanged: false,
    check(t, o, before, after) {
      expect(o.last?.failure?.step).toBe("verify");
      expect((o as Outcome & { ms: number }).ms).toBeLessThan(15_000);
      const file = join(t.ex.dir, "verify.pids");
      expect(existsSync(file)).toBe(true);
      const pids = readFileSync(file, "utf8").trim().split("\n").map(Number);
      expect(pids).toHaveLength(3);
      expect(pids.filter(alive)).toEqual([]);
      restored(t, before, after);
    },
  },
  {
    name: "the upgrade's version command prints nothing once 2.0.0 is installed",
    item: 8,
    arrange: (t) => versionAfterUpgrade(t, ""),
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 1,
    code: "E_VERSION",
    state: "rolledBack",
    unchanged: false,
    check(t, o, before, after) {
      expect(o.last?.failure?.step).toBe("upgradePackage");
      restored(t, before, after);
    },
  },
  {
    name: "the upgrade's version command prints `2.0.0 (build 7)`",
    item: 8,
    arrange: (t) => versionAfterUpgrade(t, "2.0.0 (build 7)"),
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 1,
    code: "E_VERSION",
    state: "rolledBack",
    unchanged: false,
    check(t, o, before, after) {
      expect(o.last?.failure?.step).toBe("upgradePackage");
      expect(o.last?.failure?.error?.message).toContain("not a version");
      restored(t, before, after);
    },
  },
];

hostileSuite("hostile inputs: versions, a 503 service, timeouts (issue 8, items 7-9)", 4401, cases);
