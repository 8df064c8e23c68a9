#!/usr/bin/env bash
# The main job: a real upgrade of the example blog from 1.0.0 to 2.0.0 with the built CLI.
# Prepares a fresh copy of the example in a temporary folder (release 1.0.0, seeded, running),
# upgrades it, shows the result, and stops the service. Needs `npm run build` first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/upgrade-machine-blog.XXXXXX")}"
[ -f "$root/dist/cli.js" ] || { echo "run.sh: dist/cli.js is missing: run \`npm run build\` first" >&2; exit 2; }

"$here/prepare.sh" "$work" >/dev/null
echo "example prepared in $work: release $("$work/ctl.sh" version), $(curl -fsS http://127.0.0.1:4000/api/stats)"
trap '"$work/ctl.sh" stop >/dev/null 2>&1 || true' EXIT

set +e
node "$root/dist/cli.js" run --config "$work/upgrade.json" --to 2.0.0
code=$?
set -e
echo "exit code: $code"
echo "after: release $("$work/ctl.sh" version), health $(curl -fsS http://127.0.0.1:4000/health || echo down), $(curl -fsS http://127.0.0.1:4000/api/stats || true)"
node "$root/dist/cli.js" history --config "$work/upgrade.json"
exit $code
