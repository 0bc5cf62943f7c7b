#!/usr/bin/env bash
# down.sh [RUN_DIR] -- `make cluster-down`: stops the chart repository the demo started (if any) and
# the cluster of RUN_DIR (default ~/.cache/kubectl-tpe/run/demo). Keeps the run dir (logs); `make
# clean` removes it.
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
. "$H/versions.sh"
R=${1:-${TPE_RUN_DIR:-$TPE_CACHE/run/demo}}
[ -d "$R" ] || { echo "no cluster in $R"; exit 0; }
if [ -f "$R/chartrepo.pid" ]; then
  pid=$(cat "$R/chartrepo.pid")
  kill "$pid" 2>/dev/null && echo "stopped the chart repository (pid $pid)"
  rm -f "$R/chartrepo.pid" "$R/chartrepo.url"
fi
"$H/stop.sh" "$R"
echo "stopped the cluster in $R"
