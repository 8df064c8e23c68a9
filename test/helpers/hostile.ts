// The hostile-input suite's harness: each case puts a real example service (examples/blog on
// SQLite, running) into a hostile shape, runs the real CLI (dist/cli.js, a child process), and
// asserts the exit code, the error code and what changed. "Nothing changed" means: the
// database's fingerprint, every watched file (content, mode, owner, symlink target), the
// service's pid and version, and the journal's rows are what they were before the command.
import { createHash } from "node:crypto";
import { type Stats, existsSync, lstatSync, readFileSync, readlinkSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteAdapter } from "../../src/adapters/sqlite/index.js";
import { prepareExample, runCli, type Example } from "./example.js";

/** What a file is, as far as "nothing changed" goes. */
export interface FileState {
  type: "file" | "link" | "dir" | "other" | "missing";
  sha256: string | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  link: string | null;
}

/** The observable state of a target and its orchestration. */
export interface World {
  fingerprint: string | null;
  files: Record<string, FileState>;
  pid: number | null;
  version: string | null;
  journal: string | null;
}

/** The state of one path, without following a final symlink. */
export function fileState(path: string): FileState {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return { type: "missing", sha256: null, mode: null, uid: null, gid: null, link: null };
  }
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (st.isSymbolicLink()) return { type: "link", sha256: null, link: readlinkSync(path), ...base };
  if (st.isDirectory()) return { type: "dir", sha256: null, link: null, ...base };
  if (!st.isFile()) return { type: "other", sha256: null, link: null, ...base };
  return { type: "file", sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), link: null, ...base };
}

/** The rows of every journal table, hashed: any append, update or delete changes it. */
export async function journalDigest(path: string): Promise<string | null> {
  if (!existsSync(path)) return null;
  const { default: Database } = await import("better-sqlite3");
  let db: InstanceType<typeof Database>;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return `unreadable:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  }
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    const h = createHash("sha256");
    for (const { name } of tables) {
      if (name === "upgrade_machine_leases") continue; // a refused command may take and release a lease
      h.update(name);
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) h.update(JSON.stringify(row));
    }
    return h.digest("hex");
  } catch {
    return `unreadable:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
  } finally {
    db.close();
  }
}

/** The fingerprint of a SQLite database, or null when it is missing or unreadable. */
export async function sqliteFingerprint(path: string): Promise<string | null> {
  if (!existsSync(path)) return null;
  const a = createSqliteAdapter({ path });
  try {
    return (await a.fingerprint()).hash;
  } catch {
    return null;
  } finally {
    await a.close();
  }
}

/** The pid in the example's pid file when that process is alive. */
export function servicePid(ex: Example): number | null {
  const file = join(ex.dir, "run", "server.pid");
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Every regular file and link of a folder, recursively (for "the backups folder did not change"). */
export function treeState(dir: string): Record<string, FileState> {
  const out: Record<string, FileState> = {};
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return out;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) out[name] = fileState(join(dir, name));
  return out;
}

/** Observes the example: database, watched files, service, journal. */
export async function observe(ex: Example, watch: string[] = [], journal = join(ex.dir, ".upgrade", "journal.sqlite")): Promise<World> {
  const files: Record<string, FileState> = {};
  for (const p of [ex.dir, join(ex.dir, "blog.config.json"), join(ex.dir, "current"), ex.db, ...watch]) files[p] = fileState(p);
  const version = await ex.ctl("version");
  return {
    fingerprint: await sqliteFingerprint(ex.db),
    files,
    pid: servicePid(ex),
    version: version.code === 0 ? version.stdout : null,
    journal: await journalDigest(journal),
  };
}

/** What the hostile command printed and how it ended. */
export interface Outcome {
  exit: number | null;
  stdout: string;
  stderr: string;
  /** The last NDJSON line of stdout (`--json`), when there is one. */
  last: Record<string, any> | null;
}

/** Runs the built CLI and parses its last NDJSON line. */
export async function cliOutcome(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const r = await runCli(args, env);
  const lines = r.stdout.trim().split("\n").filter(Boolean);
  let last: Record<string, any> | null = null;
  try {
    last = lines.length ? JSON.parse(lines[lines.length - 1]!) : null;
  } catch {
    last = null;
  }
  return { exit: r.code, stdout: r.stdout, stderr: r.stderr, last };
}

/** The error code an outcome reports: a run's failure, or the CLI's own error. */
export function errorCodeOf(o: Outcome): string | null {
  const l = o.last;
  if (l?.type === "error") return l.code;
  if (l?.failure?.error?.code) return l.rollbackFailure?.error?.code ?? l.failure.error.code;
  const m = /upgrade-machine: (E_[A-Z_]+)/.exec(o.stderr);
  return m?.[1] ?? null;
}

/** What a case gets: a fresh, running example and helpers. */
export interface CaseTools {
  ex: Example;
  /** Rewrites the example's upgrade.json. */
  config(patch: (c: any) => void): void;
  /** Runs the real CLI with `--config <example>` appended and `--json`. */
  cli(args: string[], env?: Record<string, string>): Promise<Outcome>;
}

/** One hostile input or deployment shape. */
export interface HostileCase {
  /** What is tried, as a sentence. */
  name: string;
  /** The item of issue 8 it covers (1..12). */
  item: number;
  /** Puts the world into shape (before the "before" observation); returns extra paths to watch. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a case arranges and returns nothing, or returns paths to watch
  arrange?(t: CaseTools): Promise<string[] | void> | string[] | void;
  /** The hostile command. */
  act(t: CaseTools): Promise<Outcome>;
  /** The exit code. */
  exit: number;
  /** The error code (a run's failure or the CLI's error); null: none. */
  code: string | null;
  /** The run's final state, when the command drives a run. */
  state?: string;
  /** True when nothing observable may change (the default); false when the case checks its own effects. */
  unchanged?: boolean;
  /** The command may journal (a run that aborts at preflight is recorded); everything else must stay. */
  journals?: boolean;
  /** Further checks, given the world before and after. */
  check?(t: CaseTools, o: Outcome, before: World, after: World): Promise<void> | void;
  /** Seconds this case may take (default 60). */
  timeoutSeconds?: number;
}

/**
 * Registers a table of hostile cases as a vitest suite: each case on a freshly prepared example
 * (its own port), torn down afterwards.
 */
export function hostileSuite(title: string, port: number, cases: HostileCase[]): void {
  describe(title, () => {
    let ex: Example | undefined;
    beforeEach(async () => {
      ex = await prepareExample(port, ["--authors", "3", "--posts-per-author", "3", "--comments-per-post", "2"]);
    });
    afterEach(async () => {
      await ex?.cleanup();
      ex = undefined;
    });
    for (const c of cases) {
      it(
        `[${c.item}] ${c.name}: exit ${c.exit}${c.code ? `, ${c.code}` : ""}${c.unchanged === false ? "" : ", nothing changed"}`,
        async () => {
          const e = ex!;
          const t: CaseTools = {
            ex: e,
            config(patch) {
              const cfg = JSON.parse(readFileSync(e.config, "utf8"));
              patch(cfg);
              writeFileSync(e.config, JSON.stringify(cfg, null, 2));
            },
            cli: (args, env) => cliOutcome([...args, "--config", e.config, "--json"], env),
          };
          const watch = (await c.arrange?.(t)) ?? [];
          const before = await observe(e, watch);
          const o = await c.act(t);
          const after = await observe(e, watch);
          const said = `exit ${o.exit}\nstdout: ${o.stdout.slice(-2000)}\nstderr: ${o.stderr.slice(-2000)}`;
          expect(o.exit, said).toBe(c.exit);
          expect(errorCodeOf(o), said).toBe(c.code);
          if (c.state !== undefined) expect(o.last?.state, said).toBe(c.state);
          if (c.unchanged !== false) {
            const strip = (w: World) => (c.journals ? { ...w, journal: null } : w);
            expect(strip(after), said).toEqual(strip(before));
          }
          await c.check?.(t, o, before, after);
        },
        (c.timeoutSeconds ?? 60) * 1000,
      );
    }
  });
}
