import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { crashAtEveryBoundary, ROLLBACK_EVENTS, UNHEALTHY_ROLLBACK_EVENTS } from "./helpers/crash-suite.js";
import { addBrokenRelease } from "./helpers/example.js";
import { addUnhealthyRelease, serverProcesses } from "./helpers/new-version.js";

// Crashes (SIGKILL right after one journal event is durable) at every boundary from the failing
// step on, of a failed upgrade of the example and its rollback, then resumes: from
// step.started:migrate (the resumed run re-runs the failing migration, then rolls back) and from
// step.failed:health. The boundaries before the failing step are a forward run's, with the same
// steps on the same example: test/crash.forward.test.ts crashes at each of them (the rehearsal,
// journaled as skipped here, is there a skipped step like its step.succeeded:grace). The
// uninterrupted run of each flow checks the whole journal.

describe("crash at every boundary of a failing migration and its rollback, then resume", () => {
  crashAtEveryBoundary({
    port: 4312,
    toVersion: "3.0.0",
    events: ROLLBACK_EVENTS,
    crashAfter: ROLLBACK_EVENTS.slice(ROLLBACK_EVENTS.indexOf("step.started:migrate")),
    expectedExit: 1,
    prepare: addBrokenRelease,
    async check(ex, before) {
      expect(await ex.health()).toEqual({ status: "ok", version: "1.0.0", migrations: 1 });
      expect((await ex.ctl("version")).stdout).toBe("1.0.0");
      // the database equals the restore point (nothing was written after the stop)
      expect(await ex.fingerprint()).toBe(before.fingerprint);
      expect(readFileSync(join(ex.dir, "blog.config.json"), "utf8")).toBe(before.config);
      expect((await ex.ctl("check")).code).toBe(0);
    },
  });
});

describe("crash at every boundary of the rollback of a new version that starts but answers 503, then resume", () => {
  crashAtEveryBoundary({
    port: 4442,
    toVersion: "4.0.0",
    events: UNHEALTHY_ROLLBACK_EVENTS,
    crashAfter: UNHEALTHY_ROLLBACK_EVENTS.slice(UNHEALTHY_ROLLBACK_EVENTS.indexOf("step.failed:health")),
    expectedExit: 1,
    prepare(ex) {
      addUnhealthyRelease(ex);
      const config = JSON.parse(readFileSync(ex.config, "utf8"));
      config.service.health.timeoutSeconds = 2;
      writeFileSync(ex.config, JSON.stringify(config));
    },
    async check(ex, before) {
      // the new version was stopped before the restore: one server runs, the previous version
      expect(await ex.health()).toEqual({ status: "ok", version: "1.0.0", migrations: 1 });
      expect(serverProcesses(ex.port)).toHaveLength(1);
      expect((await ex.ctl("version")).stdout).toBe("1.0.0");
      expect(await ex.fingerprint()).toBe(before.fingerprint);
      expect(readFileSync(join(ex.dir, "blog.config.json"), "utf8")).toBe(before.config);
      expect((await ex.ctl("check")).code).toBe(0);
    },
  });
});
