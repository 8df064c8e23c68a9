import { realPathOf } from "./fs/real-path.js";
import { targetId, type DatabaseTarget } from "./url.js";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "ip6-localhost"]);

/**
 * The key under which the journal files a target's runs and its lease: `sqlite:<real path>`
 * (symlinks resolved), or `<dialect>://<host>:<port>/<database>` with every loopback spelling
 * (`localhost`, `127.0.0.1`, `::1`) written `localhost`. Computed without connecting; the target
 * lock (the server's own identity) catches the spellings this cannot.
 */
export function targetKey(target: DatabaseTarget): string {
  if (target.dialect === "sqlite") return `sqlite:${realPathOf(target.path)}`;
  const host = target.socket === undefined && LOOPBACK.has(target.host) ? "localhost" : target.host;
  return targetId({ ...target, host });
}
