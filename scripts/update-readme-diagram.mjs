#!/usr/bin/env node
// Writes the machine's mermaid diagram into README.md between <!-- machine:start --> and
// <!-- machine:end -->, generated from machines/upgrade-machine.ts (through src/graph, loaded
// with jiti so no build is needed). `--check` changes nothing and exits 1 when the diagram is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createJiti } from "jiti";

const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
const jiti = createJiti(import.meta.url);
const { withCurrentDiagram } = await jiti.import("../src/graph/mermaid.ts");

const check = process.argv.includes("--check");
const before = readFileSync(readmePath, "utf8");
let after;
try {
  after = withCurrentDiagram(before);
} catch (err) {
  console.error(`update-readme-diagram: ${err.message}`);
  process.exit(2);
}
if (after === before) {
  console.log("README.md: the machine diagram is current");
} else if (check) {
  console.error("README.md: the machine diagram is stale; run `npm run diagram`");
  process.exit(1);
} else {
  writeFileSync(readmePath, after);
  console.log("README.md: machine diagram updated");
}
