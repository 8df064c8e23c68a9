import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./helpers/cli.js";
import { addBrokenRelease, prepareExample, type Example } from "./helpers/example.js";
import { sha256File } from "../src/fs/files.js";

describe("a rollback that fails ends failed, with commands a person can run to finish", () => {
  let ex: Example;
  afterAll(async () => {
    await ex?.cleanup();
  });

  it("keeps the restore point intact and lists commands that restore the service when run by hand", async () => {
    ex = await prepareExample(4351);
    addBrokenRelease(ex);
    // the previous version's reinstall fails once (a mirror is down), then works
    const flaky = join(ex.dir, "flaky-install.sh");
    writeFileSync(
      flaky,
      `#!/bin/sh\nif [ ! -e "${ex.dir}/.mirror-back" ]; then touch "${ex.dir}/.mirror-back"; echo "mirror unreachable" >&2; exit 5; fi\nexec "${ex.dir}/ctl.sh" install "$1"\n`,
    );
    chmodSync(flaky, 0o755);
    const config = JSON.parse(readFileSync(ex.config, "utf8"));
    config.package.downgrade.command = ["./flaky-install.sh", "{fromVersion}"];
    writeFileSync(ex.config, JSON.stringify(config));
    const before = await ex.fingerprint();

    const r = await cli(["run", "--config", ex.config, "--to", "3.0.0", "--json"]);
    expect(r.code).toBe(3);
    const result = r.lines.at(-1);
    expect(result).toMatchObject({
      state: "failed",
      failure: { step: "migrate" },
      rollbackFailure: { step: "reinstallPrevious", error: { code: "E_COMMAND" } },
    });
    const instructions = result.instructions as string[];
    expect(instructions.join("\n")).toMatch(/restore point is .* \(sha256 [0-9a-f]{64}\)/);

    // the restore point named in the instructions is intact
    const [, path, sha] = /restore point is (\S+) \(sha256 ([0-9a-f]{64})\)/.exec(instructions.join("\n"))!;
    expect(await sha256File(path!)).toBe(sha);

    // a person runs the listed commands, in order
    const env = { ...process.env, BLOG_HOME: ex.dir, BLOG_PORT: String(ex.port) };
    for (const line of instructions) {
      const m =
        /^(restore the database|restore a file|remove a file that did not exist|reinstall the previous version|start the service): (.*)$/.exec(
          line,
        );
      if (m) execFileSync("bash", ["-c", m[2]!], { cwd: ex.dir, env, stdio: "pipe" });
    }
    expect(await ex.health()).toMatchObject({ version: "1.0.0", migrations: 1 });
    expect((await ex.ctl("stop")).code).toBe(0);
    expect(await ex.fingerprint()).toBe(before);
    expect((await cli(["status", "--config", ex.config, "--json"])).lines[0].state).toBe("failed");
  });
});
