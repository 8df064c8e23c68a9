#!/usr/bin/env bash
# Prepares a throw-away installation of the example blog, running release 1.0.0:
#
#   prepare.sh <workdir> [seed options, e.g. --authors 10 --posts-per-author 5 --comments-per-post 2]
#
#   1. copies releases/, ctl.sh, notify.sh, seed.mjs, drizzle-trap.mjs, upgrade.json and
#      blog.config.json into <workdir> (the repository stays clean);
#   2. symlinks <workdir>/node_modules -> <repo root>/node_modules;
#   3. ctl.sh install 1.0.0, seeds <workdir>/data/blog.sqlite (seed.mjs; the seeded row counts go
#      to <workdir>/min-rows.json, floors for ctl.sh check), ctl.sh start
#      (http://127.0.0.1:4000).
#
# Progress goes to stderr; the only line on stdout is the absolute workdir, so
#   WORKDIR="$(examples/blog/prepare.sh "$(mktemp -d)")"
# works.
#
# Re-running: <workdir> may be missing or empty; if it holds a previous prepare.sh result
# (marker file .blog-example) its service is stopped and its content deleted first; any other
# non-empty directory is refused (exit 2).
#
# BLOG_PORT from the environment picks another port (tests run several examples at once): it is
# written into the copied upgrade.json (health URL, and `env` for ctl.sh). BLOG_HOME/BLOG_DB/
# BLOG_HOST are ignored so the installation matches upgrade.json (./data/blog.sqlite).
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/../.." && pwd -P)"
NODE_MODULES="$REPO_ROOT/node_modules"
MARKER=".blog-example"

log() { echo "prepare.sh: $*" >&2; }
die() { # die <exit code> <message>
  echo "prepare.sh: $2" >&2
  exit "$1"
}

[[ $# -ge 1 && -n "$1" && "$1" != -* ]] || die 2 "usage: prepare.sh <workdir> [seed options]"
target="$1"
shift

[[ -d "$NODE_MODULES/drizzle-orm" && -d "$NODE_MODULES/better-sqlite3" ]] ||
  die 1 "$NODE_MODULES lacks drizzle-orm/better-sqlite3; run npm install in $REPO_ROOT first"

WORKDIR="$(realpath -m -- "$target")"
case "$WORKDIR/" in
  / | "$REPO_ROOT"/*) die 2 "refusing workdir $WORKDIR: it must be outside the repository $REPO_ROOT" ;;
esac
[[ ! -e "$WORKDIR" || -d "$WORKDIR" ]] || die 2 "refusing: $WORKDIR exists and is not a directory"
mkdir -p -- "$WORKDIR"

if [[ -n "$(ls -A -- "$WORKDIR")" ]]; then
  [[ -f "$WORKDIR/$MARKER" ]] ||
    die 2 "refusing: $WORKDIR is not empty and was not made by prepare.sh (no $MARKER); pick an empty or new directory"
  log "cleaning the previous example in $WORKDIR"
  if [[ -x "$WORKDIR/ctl.sh" ]]; then
    env -u BLOG_DB -u BLOG_PORT -u BLOG_HOST BLOG_HOME="$WORKDIR" "$WORKDIR/ctl.sh" stop >&2 ||
      die 1 "could not stop the previous example's service in $WORKDIR"
  fi
  find "$WORKDIR" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
fi

port="${BLOG_PORT:-4000}"
[[ "$port" =~ ^[0-9]+$ ]] || die 2 "BLOG_PORT must be a port number, not $port"
unset BLOG_DB BLOG_HOST
export BLOG_HOME="$WORKDIR" BLOG_PORT="$port"

log "copying the example into $WORKDIR"
cp -R -- "$SCRIPT_DIR/releases" "$WORKDIR/releases"
for f in ctl.sh notify.sh seed.mjs drizzle-trap.mjs upgrade.json blog.config.json; do
  cp -- "$SCRIPT_DIR/$f" "$WORKDIR/$f"
done
chmod +x "$WORKDIR/ctl.sh" "$WORKDIR/notify.sh"
if [[ "$port" != 4000 ]]; then
  node -e '
    const fs = require("fs"); const [file, port] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.service.health.url = c.service.health.url.replace(":4000/", ":" + port + "/");
    c.env = { ...c.env, BLOG_PORT: port };
    fs.writeFileSync(file, JSON.stringify(c, null, 2) + "\n");' "$WORKDIR/upgrade.json" "$port"
fi
ln -s -- "$NODE_MODULES" "$WORKDIR/node_modules"
mkdir -p "$WORKDIR/data" "$WORKDIR/logs" "$WORKDIR/run"
printf 'made by %s/prepare.sh at %s\n' "$SCRIPT_DIR" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$WORKDIR/$MARKER"

"$WORKDIR/ctl.sh" install 1.0.0 >&2
node "$WORKDIR/seed.mjs" "$WORKDIR/data/blog.sqlite" --min-rows-file "$WORKDIR/min-rows.json" "$@" >&2
"$WORKDIR/ctl.sh" start >&2

echo "$WORKDIR"
