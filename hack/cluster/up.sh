#!/usr/bin/env bash
# up.sh [RUN_DIR] -- `make cluster-up`: builds the cluster binaries if needed and starts a long-lived
# local cluster in RUN_DIR (default ~/.cache/kubectl-tpe/run/demo), or reuses it when it already runs.
# Prints how to point kubectl at it. Stop it with down.sh (`make cluster-down`).
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
. "$H/versions.sh"
R=${1:-${TPE_RUN_DIR:-$TPE_CACHE/run/demo}}
"$H/build.sh" >/dev/null
mkdir -p "$R"; R=$(cd "$R" && pwd)
if [ -f "$R/pid/kube-apiserver" ] && kill -0 "$(cat "$R/pid/kube-apiserver")" 2>/dev/null; then
  echo "cluster already running in $R"
else
  "$H/start.sh" "$R"
fi
cat <<EOF2

Local cluster running (run dir $R).
Point kubectl (and helm) at it:
  export PATH=$CLUSTER_BIN:\$PATH                 # kubectl $K8S_VERSION, helm $HELM_VERSION
  export KUBECONFIG=$R/admin.kubeconfig           # cluster admin
  export KUBECONFIG=$R/operator.kubeconfig        # TPE operator: namespace thingpark-enterprise only
  # or simply:  . $R/env.sh
Stop it:  make cluster-down
EOF2
