// The config's shape, declared once: the validator (validate.ts) takes every object's keys from
// it, and `upgrade-machine schema` (schema.ts) turns it into a JSON Schema. What a schema cannot
// say the way the validator does (a database URL that parses) is approximated by a pattern, and
// test/schema.test.ts runs both over every config of the examples and of the test suite.

/** A node of the config's shape. */
export type Shape =
  | { kind: "string"; pattern?: string; enum?: readonly string[]; description?: string }
  | { kind: "seconds"; description?: string }
  | { kind: "integer"; min: number; max: number; description?: string }
  | { kind: "argv"; description?: string }
  | { kind: "strings"; description?: string }
  | { kind: "json"; description?: string }
  | { kind: "false"; description?: string }
  | { kind: "boolean"; description?: string }
  | { kind: "object"; keys: Readonly<Record<string, Shape>>; required?: readonly string[]; description?: string }
  | { kind: "array"; items: Shape; description?: string }
  | { kind: "oneOf"; of: readonly Shape[]; description?: string };

/** Every `*Seconds` field becomes a timer; Node's timers overflow above 2^31-1 ms (about 24.8 days). */
export const MAX_SECONDS = 7 * 24 * 3600;

/** What a version placeholder, a name, a URL looks like (the validator checks the same). */
export const NAME_PATTERN = "^[A-Za-z0-9._-]+$";
/** A database URL as `parseDatabaseUrl` reads it, as near as a regular expression gets. */
export const DATABASE_URL_PATTERN =
  "^(?:(?:sqlite|file):(?!//[^/])(?!/?$)(?!:memory:$).+|(?:postgres|postgresql|mysql|mariadb)://(?:[^@/?#]*@)?[^:/?#@]+(?::[0-9]+)?/[^/?#]+(?:[?].*)?)$";
const HTTP_URL_PATTERN = "^[hH][tT][tT][pP][sS]?://[^/?#\\s]+";

const text = (description?: string): Shape => ({ kind: "string", ...(description ? { description } : {}) });
const seconds = (description: string): Shape => ({ kind: "seconds", description });

/** `{ command: [argv...], cwd, timeoutSeconds, env }`. */
export const COMMAND_KEYS = {
  command: { kind: "argv", description: 'an argv array, e.g. ["./ctl.sh", "stop"]; never a shell string' },
  cwd: text("working directory, relative to the config file"),
  timeoutSeconds: seconds("0 means no timeout"),
  env: { kind: "strings", description: "extra environment" },
} as const satisfies Record<string, Shape>;

/** An HTTP request: `{ method, url, headers, body, timeoutSeconds }`. */
export const HTTP_SHAPE = {
  kind: "object",
  required: ["url"],
  keys: {
    method: { kind: "string", pattern: "^[A-Za-z]+$" },
    url: { kind: "string", pattern: HTTP_URL_PATTERN, description: "an absolute http:// or https:// URL" },
    headers: { kind: "strings" },
    body: { kind: "json" },
    timeoutSeconds: seconds("the request's timeout"),
  },
} as const satisfies Shape;

const command = (extra: Record<string, Shape> = {}): Shape => ({
  kind: "object",
  required: ["command"],
  keys: { ...COMMAND_KEYS, ...extra },
});
const commandOrHttp = (extra: Record<string, Shape>): Shape => ({
  kind: "oneOf",
  of: [command(), { kind: "object", required: ["http"], keys: { http: HTTP_SHAPE, ...extra } }],
});

/** `migrations`: a drizzle-kit folder or a command. */
export const DRIZZLE_KEYS = {
  drizzle: text("the drizzle-kit migrations folder"),
  lockTimeoutSeconds: seconds("waiting for the migration lock"),
};

export const ANNOUNCE_SHAPE = {
  kind: "object",
  keys: {
    command: { kind: "argv" },
    webhook: HTTP_SHAPE,
    withdraw: commandOrHttp({}),
    graceSeconds: seconds("between the announcement and the stop"),
    timeoutSeconds: seconds("of the announce command"),
  },
} as const satisfies Shape;

export const SERVICE_SHAPE = {
  kind: "object",
  keys: {
    stop: commandOrHttp({ waitSeconds: seconds("waiting for the service to go") }),
    start: command({ settleSeconds: seconds("a command still running after it is the service itself") }),
    health: {
      kind: "object",
      required: ["url"],
      keys: {
        url: { kind: "string", pattern: HTTP_URL_PATTERN },
        timeoutSeconds: seconds("waiting for a healthy answer"),
        expectStatus: { kind: "integer", min: 100, max: 599 },
      },
    },
  },
} as const satisfies Shape;

export const PACKAGE_SHAPE = {
  kind: "object",
  keys: { version: command(), upgrade: command(), downgrade: command() },
} as const satisfies Shape;

export const BACKUP_SHAPE = {
  kind: "object",
  keys: {
    strategy: { kind: "string", enum: ["dump", "template"] },
    toolsPath: text("where pg_dump / mariadb-dump are looked for first"),
    compress: { kind: "integer", min: 0, max: 9 },
  },
} as const satisfies Shape;

export const LINT_SHAPE = {
  kind: "object",
  keys: {
    destructive: { kind: "string", enum: ["refuse", "allow"], description: "refuse (default) or allow migrations that destroy data" },
    largeTableBytes: {
      kind: "integer",
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
      description: "from this size a locking statement is reported",
    },
  },
} as const satisfies Shape;

/** The top level of a config as written (before a preset's expansion). */
export const CONFIG_KEYS = {
  name: { kind: "string", pattern: NAME_PATTERN, description: "the service's name" },
  database: { kind: "string", pattern: DATABASE_URL_PATTERN, description: "sqlite:<path>, postgres://..., mysql://..." },
  backup: BACKUP_SHAPE,
  migrations: { kind: "oneOf", of: [{ kind: "object", required: ["drizzle"], keys: DRIZZLE_KEYS }, command()] },
  files: { kind: "array", items: text("a regular file to back up and restore") },
  stateDir: text("backups, the journal, the service log"),
  journal: { kind: "string", pattern: DATABASE_URL_PATTERN, description: "where the journal lives" },
  lint: { kind: "oneOf", of: [{ kind: "false", description: "no lint" }, LINT_SHAPE], description: "the lint of pending migrations" },
  rehearse: {
    kind: "oneOf",
    of: [{ kind: "boolean" }, command()],
    description: 'false turns the rehearsal off; {"command": [...]} rehearses with a command ({databaseUrl}, {databasePath})',
  },
  announce: ANNOUNCE_SHAPE,
  service: SERVICE_SHAPE,
  package: PACKAGE_SHAPE,
  verify: { kind: "array", items: command() },
  env: { kind: "strings", description: "extra environment for every command" },
  preset: text("a preset: jupyterhub"),
} as const satisfies Record<string, Shape>;

/** Keys a config may carry besides CONFIG_KEYS, never suggested for a typo. */
export const QUIET_KEYS = {
  $schema: text("the JSON Schema, for editors"),
  presetOptions: { kind: "json", description: "written by a preset's expansion" },
  jupyterhub: { kind: "json", description: 'the jupyterhub preset\'s block (with "preset": "jupyterhub"), checked by the preset' },
} as const satisfies Record<string, Shape>;

/** The names of an object shape's keys, for the validator's unknown-key check. */
export function keysOf(shape: { readonly keys: Readonly<Record<string, Shape>> }): string[] {
  return Object.keys(shape.keys);
}
