/**
 * postgres.js 3.4.x flushes small writes from a `setImmediate`; when the connection closed in
 * between (the server or the network dropped it), that callback reads `socket.write` on null and
 * throws outside any query, which would end the process (porsager/postgres#1154, #1208; the fix,
 * #1168/#1209, is not released). The query itself was already rejected (CONNECTION_CLOSED), so a
 * worker that lost its journal would die instead of stopping its targets in time and reconnecting.
 * The pool that saw it is replaced (see the fleet store), since the connection's write buffer is
 * left stale.
 */
export function isPostgresWriteAfterClose(err: unknown): boolean {
  if (!(err instanceof TypeError)) return false;
  const stack = err.stack ?? "";
  return err.message.includes("reading 'write'") && /nextWrite/.test(stack) && /postgres[\\/]src[\\/]connection\.js/.test(stack);
}

let installed = false;

/**
 * For a process entry point (the CLI), never the library: ignores that one exception (with a line
 * on stderr) and ends the process on any other uncaught exception as Node does (stack, exit 1).
 */
export function surviveWriteAfterClose(stderr: { write(s: string): unknown } = process.stderr): void {
  if (installed) return;
  installed = true;
  process.on("uncaughtException", (err) => {
    if (isPostgresWriteAfterClose(err)) {
      stderr.write("upgrade-machine: postgres.js wrote on a connection that had closed (porsager/postgres#1154): ignored\n");
      return;
    }
    stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
