#!/usr/bin/env bash
# Control script of the example blog "installation".
#
#   ctl.sh install <version>   point $BLOG_HOME/current at releases/<version> (atomic symlink swap)
#   ctl.sh version             print the version of current
#   ctl.sh start               start node current/server.mjs detached (no-op when running)
#   ctl.sh stop                SIGTERM, wait up to $BLOG_STOP_TIMEOUT (10) s (no-op when stopped)
#   ctl.sh status              exit 0 when running, 3 when stopped
#   ctl.sh check               node current/check.mjs: does the database match current's schema
#                              (and hold at least the rows in $BLOG_HOME/min-rows.json, if present)?
#
# Environment:
#   BLOG_HOME      the installation (default: this script's directory); holds releases/, current,
#                  data/, logs/server.log, run/server.pid
#   BLOG_DB        SQLite file (default: $BLOG_HOME/data/blog.sqlite)
#   BLOG_PORT      port (default 4000); BLOG_HOST bind address (default 127.0.0.1)
#   BLOG_START_TIMEOUT / BLOG_STOP_TIMEOUT   seconds (default 15 / 10)
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
BLOG_HOME="${BLOG_HOME:-$SCRIPT_DIR}"
BLOG_HOME="$(cd -- "$BLOG_HOME" && pwd -P)"
export BLOG_DB="${BLOG_DB:-$BLOG_HOME/data/blog.sqlite}"
export BLOG_PORT="${BLOG_PORT:-4000}"
export BLOG_HOST="${BLOG_HOST:-127.0.0.1}"
START_TIMEOUT="${BLOG_START_TIMEOUT:-15}"
STOP_TIMEOUT="${BLOG_STOP_TIMEOUT:-10}"

CURRENT="$BLOG_HOME/current"
PIDFILE="$BLOG_HOME/run/server.pid"
LOGFILE="$BLOG_HOME/logs/server.log"

die() { # die <exit code> <message>
  echo "ctl.sh: $2" >&2
  exit "$1"
}

require_current() {
  [[ -L "$CURRENT" && -f "$CURRENT/VERSION" ]] ||
    die 1 "no release installed ($CURRENT missing); run: ctl.sh install <version>"
}

# Prints the pid of the running server, or fails. The pid must be alive AND be our server
# (guards against a stale pid file whose pid was reused by another process).
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(<"$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'server\.mjs' || return 1
  fi
  echo "$pid"
}

cmd_install() {
  local version="${1:-}"
  [[ -n "$version" ]] || die 2 "usage: ctl.sh install <version>"
  [[ "$version" =~ ^[A-Za-z0-9._+-]+$ && "$version" != "." && "$version" != ".." ]] ||
    die 2 "invalid version '$version'"
  [[ -d "$BLOG_HOME/releases/$version" && -f "$BLOG_HOME/releases/$version/server.mjs" ]] ||
    die 2 "release $version does not exist (no $BLOG_HOME/releases/$version/server.mjs)"
  local tmp="$BLOG_HOME/.current.tmp.$$"
  ln -sfn "releases/$version" "$tmp"
  mv -T "$tmp" "$CURRENT"
  echo "installed $version ($CURRENT -> releases/$version)"
}

cmd_version() {
  require_current
  local v
  v="$(<"$CURRENT/VERSION")"
  echo "${v//[[:space:]]/}"
}

cmd_start() {
  require_current
  local pid
  if pid="$(running_pid)"; then
    echo "already running (pid $pid, version $(cmd_version))"
    return 0
  fi
  mkdir -p "$BLOG_HOME/logs" "$BLOG_HOME/run"
  rm -f "$PIDFILE"
  local version
  version="$(cmd_version)"
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ctl.sh start: release $version" >>"$LOGFILE"
  # New session (setsid) so the server survives the caller's process group; all three std
  # streams redirected so the caller's pipes close when this script exits. The inner shell
  # writes its own pid and then execs node, so the pid file holds node's pid.
  (
    cd "$BLOG_HOME"
    PIDFILE="$PIDFILE" setsid nohup bash -c 'echo $$ >"$PIDFILE"; exec node current/server.mjs' \
      </dev/null >>"$LOGFILE" 2>&1 &
  )
  # Wait until this very process logs that it listens, or dies (e.g. refuses an old schema).
  local waited=0
  while true; do
    if [[ -s "$PIDFILE" ]]; then
      pid="$(<"$PIDFILE")"
      if grep -qF "listening on http://$BLOG_HOST:$BLOG_PORT (pid $pid)" "$LOGFILE"; then
        echo "started release $version (pid $pid) on http://$BLOG_HOST:$BLOG_PORT"
        return 0
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PIDFILE"
        echo "ctl.sh: server exited during start; last lines of $LOGFILE:" >&2
        tail -n 5 "$LOGFILE" >&2
        exit 1
      fi
    fi
    if ((waited >= START_TIMEOUT * 10)); then
      echo "ctl.sh: server did not report listening within ${START_TIMEOUT}s; stopping it" >&2
      cmd_stop >&2 || true
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    echo "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT * 10)); then
      echo "ctl.sh: server (pid $pid) did not exit within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$PIDFILE"
  echo "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running (pid $pid, version $(cmd_version 2>/dev/null || echo '?'), http://$BLOG_HOST:$BLOG_PORT)"
    return 0
  fi
  echo "stopped"
  return 3
}

cmd_check() {
  require_current
  (cd "$BLOG_HOME" && BLOG_MIN_ROWS="${BLOG_MIN_ROWS:-$BLOG_HOME/min-rows.json}" exec node current/check.mjs)
}

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
  install) cmd_install "$@" ;;
  version) cmd_version ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  check) cmd_check ;;
  -h | --help | help) usage ;;
  *) echo "ctl.sh: unknown command '$command'" >&2; usage ;;
esac
