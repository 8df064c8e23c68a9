#!/usr/bin/env bash
# The fleet example: a rollout of a dozen blog targets to 2.0.0, one of them broken, with the
# journal on the local PostgreSQL. Needs `npm ci`, `npm run build` and PostgreSQL up.
#
#   FLEET_HALT=canary|wave  (default canary) where the broken target sits: blog-01, the canary
#                           (the rollout halts after it; nothing else is touched), or blog-03 in
#                           the second wave (the canary completes, the second wave's other
#                           targets finish, the third wave never starts)
#   FLEET_TARGETS           how many targets (default 12)
#   FLEET_DB                the journal database, created and dropped (default um_fleet_example)
#   PGHOST/PGPORT/PGUSER/PGPASSWORD  the PostgreSQL server (default postgres@127.0.0.1:5432)
#   BLOG_PORT               the port the template blog runs on while it is prepared (default 4000)
#   $1                      the work folder (default a new one under $TMPDIR), removed at the end
#                           unless FLEET_KEEP=1
#
# Prints the rollout's own output, its exit code and `fleet status`. Exits 0 when the rollout
# halted where it was meant to (its exit code 1), otherwise with the rollout's exit code.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cli="$root/dist/cli.js"
[ -f "$cli" ] || { echo "run.sh: dist/cli.js is missing: run \`npm run build\` first" >&2; exit 2; }
halt="${FLEET_HALT:-canary}"
case "$halt" in canary) broken=1 ;; wave) broken=3 ;; *) echo "run.sh: FLEET_HALT must be canary or wave, not $halt" >&2; exit 2 ;; esac
count="${FLEET_TARGETS:-12}"
db="${FLEET_DB:-um_fleet_example}"
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/upgrade-machine-fleet.XXXXXX")}"
journal="postgres://${PGUSER:-postgres}@${PGHOST:-127.0.0.1}:${PGPORT:-5432}/$db"

cleanup() {
  [ -x "$work/template/ctl.sh" ] && BLOG_HOME="$work/template" "$work/template/ctl.sh" stop >/dev/null 2>&1 || true
  node "$here/journal-db.mjs" drop "$db" || true
  [ "${FLEET_KEEP:-0}" = 1 ] || rm -rf -- "$work"
}
trap cleanup EXIT

node "$here/journal-db.mjs" create "$db"
if ! "$root/examples/blog/prepare.sh" "$work/template" --authors 3 --posts-per-author 3 --comments-per-post 1 >/dev/null 2>"$work/prepare.log"; then
  cat "$work/prepare.log" >&2
  exit 1
fi
BLOG_HOME="$work/template" "$work/template/ctl.sh" stop >/dev/null
node "$here/make-targets.mjs" "$work/template" "$work" "$count" "$broken" "$journal"
echo "fleet prepared in $work: $count targets at release 1.0.0, blog-$(printf %02d "$broken") broken, journal $journal"
cat "$work/fleet.json"

set +e
node "$cli" fleet run --fleet "$work/fleet.json" --to 2.0.0
code=$?
set -e
echo "fleet run exit code: $code"
node "$cli" fleet status --fleet "$work/fleet.json"
[ "$code" = 1 ] && exit 0
exit "$code"
