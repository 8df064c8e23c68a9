import { serverAddress, type DatabaseTarget } from "../url.js";

/**
 * A server target's URL with its user and password, for a command that must connect to it (a
 * rehearsal's `{databaseUrl}`): never print or journal it; `describeTarget` is its printable form.
 */
export function connectionUrl(t: Extract<DatabaseTarget, { dialect: "postgres" | "mysql" }>): string {
  const user = t.user !== undefined ? encodeURIComponent(t.user) : "";
  const pass = t.password !== undefined ? `:${encodeURIComponent(t.password)}` : "";
  const cred = user || pass ? `${user}${pass}@` : "";
  const query = Object.entries(t.params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  return `${t.dialect}://${cred}${serverAddress(t)}${query ? `?${query}` : ""}`;
}
