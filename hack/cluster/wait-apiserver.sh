#!/usr/bin/env bash
# wait-apiserver.sh RUN_DIR [TIMEOUT_SECONDS] -- waits until the apiserver of RUN_DIR answers /readyz.
set -euo pipefail
R=${1:?run dir}; T=${2:-120}; . "$R/ports.env"; P=$R/pki
deadline=$(( $(date +%s) + T ))
until curl -sf --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$(cat "$R/pid/kube-apiserver")" 2>/dev/null; then
    echo "kube-apiserver died; last log lines:" >&2; tail -30 "$R/log/kube-apiserver.log" >&2; exit 1
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "kube-apiserver not ready after ${T}s" >&2; tail -30 "$R/log/kube-apiserver.log" >&2; exit 1; }
  sleep 0.2
done
