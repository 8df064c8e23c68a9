import { execFileSync } from "node:child_process";

/** Builds dist/ once, so tests that run the real CLI as a child process run today's code. */
export default function setup(): void {
  execFileSync("npx", ["tsup", "--silent"], { stdio: "inherit" });
}
