// Starts the npm-served PostgreSQL majors of the test matrix (14, 16, 17, 18) on their own ports:
// used by the vitest global setup (test/global-setup.ts) and the benchmarks. No vitest import here.
import { npmBinaries, startCluster, type PgCluster } from "./pg-cluster.js";

/** The majors started from npm, with their wanted ports. */
export const NPM_MAJOR_PORTS: Record<number, number> = { 14: 5414, 16: 5416, 17: 5417, 18: 5418 };

/** What the global setup hands to the test files about one npm major. */
export interface StartedMajor {
  major: number;
  adminUrl: string | null;
  /** Where the binaries came from, or why the server is missing. */
  source: string;
  missing: string | null;
}

declare module "vitest" {
  export interface ProvidedContext {
    pgMajors: StartedMajor[];
  }
}

function wanted(): number[] {
  const env = process.env.UM_TEST_PG_MAJORS;
  if (env === undefined || env.trim() === "") return Object.keys(NPM_MAJOR_PORTS).map(Number);
  if (env.trim() === "none") return [];
  return env
    .split(",")
    .map((m) => Number(m.trim()))
    .filter((m) => NPM_MAJOR_PORTS[m] !== undefined);
}

/** Starts every wanted npm major (in parallel); never throws: a failure is reported as `missing`. */
export async function startNpmMajors(
  options: { fast?: boolean } = { fast: true },
): Promise<{ majors: StartedMajor[]; stop(): Promise<void> }> {
  const clusters: PgCluster[] = [];
  const majors = await Promise.all(
    wanted().map(async (major): Promise<StartedMajor> => {
      const bin = await npmBinaries(major);
      if ("missing" in bin) return { major, adminUrl: null, source: "", missing: bin.missing };
      try {
        const cluster = await startCluster(bin, { port: NPM_MAJOR_PORTS[major] ?? 0, fast: options.fast ?? false });
        clusters.push(cluster);
        return { major, adminUrl: cluster.adminUrl, source: bin.source, missing: null };
      } catch (err) {
        return { major, adminUrl: null, source: bin.source, missing: (err as Error).message };
      }
    }),
  );
  return { majors, stop: async () => void (await Promise.all(clusters.map((c) => c.stop()))) };
}
