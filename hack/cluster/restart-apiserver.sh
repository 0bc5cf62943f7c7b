#!/usr/bin/env bash
# restart-apiserver.sh RUN_DIR -- stops the kube-apiserver of RUN_DIR (SIGTERM, then SIGKILL after 3 s)
# and starts it again with the same flags; returns when /readyz answers.
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd); R=${1:?run dir}
f=$R/pid/kube-apiserver
if [ -f "$f" ]; then
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
fi
"$R/run-apiserver.sh"
"$H/wait-apiserver.sh" "$R" 120
