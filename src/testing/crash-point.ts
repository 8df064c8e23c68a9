import type { JournalEvent } from "../journal/types.js";

/** The environment variable naming the event after which the process kills itself (tests). */
export const CRASH_ENV = "UPGRADE_MACHINE_CRASH_AFTER";

/**
 * With `UPGRADE_MACHINE_CRASH_AFTER=<event type>[:<step>]` set (e.g. `step.started:migrate`),
 * kills the process with SIGKILL right after that event is durable: a real, unclean crash at a
 * named point, for crash tests. Unset, it does nothing. A testing aid: the CLI passes it to the
 * runner as `afterAppend`; the library's `upgrade()` / `resume()` only when given it.
 */
export function crashPointFromEnv(env: NodeJS.ProcessEnv = process.env): ((event: JournalEvent) => void) | undefined {
  const spec = env[CRASH_ENV];
  if (!spec) return undefined;
  const [type, step] = spec.split(":");
  return (event) => {
    if (event.type === type && (step === undefined || step === "" || event.step === step)) {
      process.kill(process.pid, "SIGKILL");
    }
  };
}
