/** An address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** True when listening on `host` exposes nothing to the network. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
