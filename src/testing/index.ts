export { faultArbitrary, faultScheduleArbitrary, INTERRUPTING, SERVICE_FAULTS, type Fault, type FaultSchedule } from "./faults.js";
export { finalBreach, serviceEffect, serviceWorld, type ServiceWorld, type Version } from "./service-world.js";
export { expectedTerminal, expectedPath } from "./model.js";
export { simulateRun, type SimulatedRun } from "./harness.js";
export { crashPointFromEnv, CRASH_ENV } from "./crash-point.js";
export { createMemoryJournal, type MemoryJournal, type MemoryJournalData } from "./memory-journal.js";
export { startRun, resumeRun, SimulatedCrash, type RunnerOptions } from "../runner/runner.js";
