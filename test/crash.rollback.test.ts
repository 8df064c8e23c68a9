import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { crashAtEveryBoundary, ROLLBACK_EVENTS } from "./helpers/crash-suite.js";
import { addBrokenRelease } from "./helpers/example.js";

describe("crash at every boundary of a failing upgrade and its rollback, then resume", () => {
  crashAtEveryBoundary({
    port: 4312,
    toVersion: "3.0.0",
    events: ROLLBACK_EVENTS,
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
