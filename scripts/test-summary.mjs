// Prints vitest's JSON report as the plain closing line CI reads: "N passed, N failed, N skipped".
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "test-artifacts/vitest.json";
try {
  const r = JSON.parse(readFileSync(file, "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
} catch (err) {
  console.log(`0 passed, 1 failed, 0 skipped`);
  console.error(`test-summary: no vitest report at ${file}: ${err.message}`);
}
