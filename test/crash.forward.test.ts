import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { crashAtEveryBoundary, FORWARD_EVENTS } from "./helpers/crash-suite.js";

describe("crash at every boundary of a real upgrade of the example, then resume", () => {
  crashAtEveryBoundary({
    port: 4311,
    toVersion: "2.0.0",
    events: FORWARD_EVENTS,
    expectedExit: 0,
    async check(ex, before) {
      expect(await ex.health()).toEqual({ status: "ok", version: "2.0.0", migrations: 2 });
      // the drizzle-kit rebuild of posts kept every comment (10 authors x 10 posts x 3 comments)
      expect(await ex.stats()).toEqual({ authors: 10, posts: 100, comments: 300 });
      expect((await ex.ctl("check")).code).toBe(0);
      expect(readFileSync(join(ex.dir, "blog.config.json"), "utf8")).toBe(before.config);
      expect(await ex.fingerprint()).not.toBe(before.fingerprint);
      // the rehearsal's scratch copy is gone, whichever attempt made it
      const backups = join(ex.dir, ".upgrade", "backups");
      const left = readdirSync(backups).flatMap((run) => readdirSync(join(backups, run)).filter((f) => f.startsWith("rehearse_")));
      expect(left).toEqual([]);
    },
  });
});
