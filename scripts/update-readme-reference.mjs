#!/usr/bin/env node
// Writes README.md's generated reference: the CLI's help (between <!-- cli:start --> and
// <!-- cli:end -->, from the commands' declarations in src/cli) and the exit and error codes
// (between <!-- errors:start --> and <!-- errors:end -->, from the table in src/error-codes.ts),
// loaded with jiti so no build is needed. `--check` changes nothing and exits 1 when it is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createJiti } from "jiti";

const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
const jiti = createJiti(import.meta.url);
const { withCurrentReference } = await jiti.import("../src/cli/readme.ts");

const check = process.argv.includes("--check");
const before = readFileSync(readmePath, "utf8");
let after;
try {
  after = withCurrentReference(before);
} catch (err) {
  console.error(`update-readme-reference: ${err.message}`);
  process.exit(2);
}
if (after === before) {
  console.log("README.md: the CLI and error reference is current");
} else if (check) {
  console.error("README.md: the CLI and error reference is stale; run `npm run reference`");
  process.exit(1);
} else {
  writeFileSync(readmePath, after);
  console.log("README.md: CLI and error reference updated");
}
