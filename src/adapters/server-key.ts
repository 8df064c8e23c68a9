import { targetId, type DatabaseTarget } from "../url.js";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "ip6-localhost"]);

/**
 * The journal key of a server database: `<dialect>://<host>:<port>/<database>` with every
 * loopback spelling (`localhost`, `127.0.0.1`, `::1`) written `localhost`. Computed without
 * connecting; the target lock (the server's own identity) catches the spellings this cannot.
 */
export function serverTargetKey(target: Exclude<DatabaseTarget, { dialect: "sqlite" }>): string {
  const host = target.socket === undefined && LOOPBACK.has(target.host) ? "localhost" : target.host;
  return targetId({ ...target, host });
}
