#!/usr/bin/env bash
# Announcement hook of the example blog: appends "<date> upgrading to <version>" to
# $BLOG_HOME/logs/announcements.log (BLOG_HOME defaults to this script's directory).
#   notify.sh <version>
set -euo pipefail
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
BLOG_HOME="${BLOG_HOME:-$SCRIPT_DIR}"
version="${1:?usage: notify.sh <version>}"
mkdir -p "$BLOG_HOME/logs"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) upgrading to $version" >>"$BLOG_HOME/logs/announcements.log"
exit 0
