import type { StepImplementations } from "./types.js";
import { preflight } from "./preflight.js";
import { backup } from "./backup.js";
import { lint } from "./lint.js";
import { rehearse } from "./rehearse.js";
import { seal } from "./seal.js";
import { announce, grace, withdrawAnnouncement } from "./announce.js";
import { health, restartService, start, startPrevious, stop } from "./service.js";
import { reinstallPrevious, upgradePackage } from "./package.js";
import { migrate, verify } from "./migrate.js";
import { restoreDatabase, restoreFiles, verifyRestore } from "./restore.js";
import { stopNewVersion } from "./stop-new-version.js";

/** The built-in effect of every step, driven by the config. */
export const defaultSteps: StepImplementations = {
  preflight,
  backup,
  lint,
  rehearse,
  announce,
  grace,
  stop,
  seal,
  upgradePackage,
  migrate,
  verify,
  start,
  health,
  restartService,
  withdrawAnnouncement,
  stopNewVersion,
  restoreDatabase,
  restoreFiles,
  reinstallPrevious,
  startPrevious,
  verifyRestore,
};

export type { StepContext, StepDefinition, StepImplementations } from "./types.js";
