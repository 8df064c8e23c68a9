#!/usr/bin/env node
import { surviveWriteAfterClose } from "../process/write-after-close.js";
import { exitCodeFor } from "../error-codes.js";
import { main } from "./main.js";
import { processIo } from "./io.js";

surviveWriteAfterClose();
main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`upgrade-machine: ${String(err)}\n`);
    process.exitCode = exitCodeFor("E_INTERNAL");
  },
);
