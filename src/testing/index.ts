export { faultArbitrary, faultScheduleArbitrary, INTERRUPTING, type Fault, type FaultSchedule } from "./faults.js";
export { expectedTerminal, expectedPath } from "./model.js";
export { simulateRun, type SimulatedRun } from "./harness.js";
export { crashPointFromEnv, CRASH_ENV } from "./crash-point.js";
export { createMemoryJournal, type MemoryJournal, type MemoryJournalData } from "./memory-journal.js";
