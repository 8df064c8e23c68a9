// The PostgreSQL seal with nothing written, when a checkpoint recycled the WAL between the hot
// backup and the seal (issue 11): the database part of the backup and seal steps, by the adapter.
//   npx tsx scripts/bench-seal-slot.ts [rows=1200000] [rounds=3] [strategy=template]
// Creates um_slot_bench_<hex> (about 200 MB at 1.2M rows) on UM_TEST_PG_URL (default the local
// server), drops it at the end. Per round: mark, hot backup, the mark checked and renewed (the
// backup step); WAL written in another database, pg_switch_wal() and CHECKPOINT three times; then
// the seal: the renewed mark checked and, when that cannot prove it, what the seal does instead
// (a mark, the stopped database's fingerprint, the mark checked again). Prints JSON per round.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createPostgresAdapter, type PostgresTarget } from "../src/adapters/postgres/index.js";
import { parseDatabaseUrl } from "../src/url.js";

const [rows = 1_200_000, rounds = 3] = process.argv.slice(2, 4).map(Number);
const strategy = (process.argv[4] ?? "template") as "template" | "dump";
const admin = process.env.UM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = `um_slot_bench_${randomBytes(4).toString("hex")}`;
const urlOf = (db: string) => Object.assign(new URL(admin), { pathname: `/${db}` }).toString();
const sql = postgres(admin, { max: 1, onnotice: () => undefined });
const dir = mkdtempSync(join(tmpdir(), "um-slot-bench-"));
const ms = (t: number) => Math.round(performance.now() - t);

try {
  await sql.unsafe("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  await sql.unsafe(`CREATE DATABASE ${name}`);
  await sql.unsafe(`CREATE DATABASE ${name}_noise`);
  const target = postgres(urlOf(name), { max: 1, onnotice: () => undefined });
  await target.unsafe("CREATE TABLE posts (id int PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL)");
  await target.unsafe(`INSERT INTO posts SELECT g, repeat(md5(g::text), 3), now() FROM generate_series(1, ${rows}) g`);
  await target.unsafe("VACUUM ANALYZE posts");
  const [size] = await target<{ mb: number }[]>`SELECT round(pg_database_size(current_database()) / 1e6)::int AS mb`;
  await target.end();
  const noise = postgres(urlOf(`${name}_noise`), { max: 1, onnotice: () => undefined });
  await noise.unsafe("CREATE TABLE noise (id int, v text)");
  console.log(JSON.stringify({ database: name, mb: size!.mb, rows, strategy }));

  for (let round = 0; round < rounds; round++) {
    const adapter = createPostgresAdapter(parseDatabaseUrl(urlOf(name), "/") as PostgresTarget, { backupStrategy: strategy });
    try {
      const mark = await adapter.changeMark();
      if ("skipped" in mark) throw new Error(mark.skipped);
      const hot = await adapter.hotBackup(dir, `hot${round}`);
      if ("skipped" in hot) throw new Error(hot.skipped);
      const kept = await adapter.sinceMark(mark);
      if (!kept.unchanged) throw new Error(`written during the backup: ${kept.why}`);
      const renewed = kept.renewed ?? mark;
      for (let i = 0; i < 3; i++) {
        await noise.unsafe("INSERT INTO noise SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g");
        await sql.unsafe("SELECT pg_switch_wal()");
        await sql.unsafe("CHECKPOINT");
      }
      const t = performance.now();
      const check = await adapter.sinceMark(renewed);
      let how = "mark";
      if (!check.unchanged) {
        how = "fingerprint";
        const again = await adapter.changeMark();
        await adapter.fingerprint();
        if (!("skipped" in again)) await adapter.sinceMark(again);
      }
      const sealMs = ms(t);
      console.log(
        JSON.stringify({
          round,
          sealMs,
          how,
          walKept: renewed.walKept ?? null,
          why: check.unchanged ? undefined : check.why.split("\n")[0],
        }),
      );
      await adapter.dropBackup(hot);
    } finally {
      await adapter.close();
    }
  }
  await noise.end();
} finally {
  await sql.unsafe(`DROP DATABASE IF EXISTS ${name}_noise WITH (FORCE)`);
  await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
}
