#!/usr/bin/env bash
# stop.sh RUN_DIR -- stops exactly the processes start.sh started for RUN_DIR (from RUN_DIR/pid/*),
# SIGTERM first, SIGKILL after 5 s, and releases the run's port claims. Keeps RUN_DIR (logs, audit).
set -uo pipefail
H=$(cd "$(dirname "$0")" && pwd)
. "$H/versions.sh"
R=${1:?usage: stop.sh RUN_DIR}
[ -d "$R" ] || exit 0
R=$(cd "$R" && pwd)
for p in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  f="$R/pid/$p"; [ -f "$f" ] || continue; pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
done
if [ -f "$R/ports.env" ]; then
  . "$R/ports.env"
  for p in "$PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KUBELET_PORT"; do
    c="$TPE_CACHE/ports/$p"; [ "$(cat "$c" 2>/dev/null)" = "$R" ] && rm -f "$c"
  done
fi
exit 0
