// Makes the fleet example's targets from one prepared blog (release 1.0.0, seeded, stopped):
//
//   node make-targets.mjs <template> <workdir> <count> <broken index, 1-based> <journal url>
//
// Each target <workdir>/blog-NN is a copy of the template without its service and announce
// steps (backup, package switch, migrations, verify, and the rollback on failure all still run:
// a dozen running services is too heavy for the example). The broken target's 2.0.0 has a
// migration whose second statement fails, and its rehearsal is off, so its run really migrates,
// fails and rolls back. Writes <workdir>/fleet.json (targets in sorted order: blog-01 is the
// canary).
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [template, work, countArg, brokenArg, journal] = process.argv.slice(2);
const count = Number(countArg);
const broken = Number(brokenArg);

function breakRelease(dir) {
  const rel = join(dir, "releases", "2.0.0", "drizzle");
  const journalFile = join(rel, "meta", "_journal.json");
  const j = JSON.parse(readFileSync(journalFile, "utf8"));
  const last = j.entries[j.entries.length - 1];
  j.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: "0099_broken" });
  writeFileSync(journalFile, JSON.stringify(j, null, 2));
  writeFileSync(
    join(rel, "0099_broken.sql"),
    "ALTER TABLE `authors` ADD `nickname` text;\n--> statement-breakpoint\nINSERT INTO `no_such_table` VALUES (1);\n",
  );
}

for (let i = 1; i <= count; i++) {
  const dir = join(work, `blog-${String(i).padStart(2, "0")}`);
  cpSync(template, dir, { recursive: true, verbatimSymlinks: true });
  const file = join(dir, "upgrade.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  delete c.service;
  delete c.announce;
  if (i === broken) {
    c.rehearse = false;
    breakRelease(dir);
  }
  writeFileSync(file, `${JSON.stringify(c, null, 2)}\n`);
}

const fleet = {
  name: "blogs",
  journal,
  targets: ["./blog-*/upgrade.json"],
  waves: [{ size: 1 }, { percent: 25 }, { rest: true }],
  maxParallel: 4,
  failureThreshold: 0,
  leaseSeconds: 30,
};
writeFileSync(join(work, "fleet.json"), `${JSON.stringify(fleet, null, 2)}\n`);
