#!/usr/bin/env bash
# demo.sh -- `make demo`: builds both plugins, starts the local cluster (run dir of `make cluster-up`)
# and the fixture chart repository, then shows what the plugins do: add the repository, apply the
# cluster prerequisites, run the preflight, install the fixture TPE release v7.2.2c, show the status.
# Leaves everything running; `make cluster-down` stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
. hack/cluster/versions.sh
R=${TPE_RUN_DIR:-$TPE_CACHE/run/demo}
GO=${GO:-go}
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Build the plugins (bin/kubectl-tpe, bin/helm-tpe)"
make --no-print-directory build

step "Start the local cluster (k8s $K8S_VERSION: etcd, apiserver, controllers, scheduler, 3 kwok nodes)"
hack/cluster/build.sh
hack/cluster/up.sh "$R" >/dev/null
R=$(cd "$R" && pwd)
echo "run dir: $R"

step "Start the fixture chart repository (basic auth: user = password = installation ID)"
if [ -f "$R/chartrepo.pid" ] && kill -0 "$(cat "$R/chartrepo.pid")" 2>/dev/null; then
  echo "already running: $(cat "$R/chartrepo.url")"
else
  rm -f "$R/chartrepo.url"
  $GO build -o "$R/chartrepo" ./hack/chartrepo
  nohup "$R/chartrepo" -addr 127.0.0.1:0 -installation-id-file "$R/installation-id" -url-file "$R/chartrepo.url" \
    > "$R/log/chartrepo.log" 2>&1 &
  echo $! > "$R/chartrepo.pid"
  for _ in $(seq 100); do [ -s "$R/chartrepo.url" ] && break; sleep 0.1; done
  [ -s "$R/chartrepo.url" ] || { echo "the chart repository did not start; see $R/log/chartrepo.log" >&2; exit 1; }
  echo "serving $(cat "$R/chartrepo.url") (pid $(cat "$R/chartrepo.pid"))"
fi
URL=$(cat "$R/chartrepo.url")
# The chart needs global.installationId: keep it in a private values file, never on a command line.
( umask 077; printf 'global:\n  installationId: "%s"\n' "$(tr -d '[:space:]' < "$R/installation-id")" > "$R/installation-id-values.yaml" )

# Plugins run as kubectl and helm would run them; Helm's config stays inside the run dir.
export HELM_CONFIG_HOME=$R/helm-home/config HELM_CACHE_HOME=$R/helm-home/cache HELM_DATA_HOME=$R/helm-home/data
export HELM_NAMESPACE=thingpark-enterprise
ADMIN=$R/admin.kubeconfig OPERATOR=$R/operator.kubeconfig
as() { local kc=$1; shift; printf '$ KUBECONFIG=%s %s\n' "$(basename "$kc")" "$*"; KUBECONFIG=$kc "$@"; }

step "helm tpe repo add (as the operator)"
as "$OPERATOR" bin/helm-tpe repo add --repo-url "$URL" --installation-id-file "$R/installation-id" --to v7.2.2c

step "kubectl tpe prereqs apply --hosting other (as the cluster admin)"
as "$ADMIN" bin/kubectl-tpe prereqs apply --hosting other --storage-provisioner kwok.x-k8s.io/volume
echo "and the operators' CRDs (fixture stand-ins for the vendor's manifests/upgrade/*.yaml):"
as "$ADMIN" "$CLUSTER_BIN/kubectl" apply -f testdata/crds/fixture-crds.yaml

step "kubectl tpe preflight (as the cluster admin: both profiles)"
# Exit 2 means a check failed: the demo goes on and shows the verdict.
as "$ADMIN" bin/kubectl-tpe preflight --to v7.2.2c --hosting other --segment L \
  -f hack/demo/values.yaml -f "$R/installation-id-values.yaml" || echo "(preflight exit code $?)"

step "helm tpe install --to v7.2.2c (as the operator)"
as "$OPERATOR" bin/helm-tpe install --to v7.2.2c -f hack/demo/values.yaml -f "$R/installation-id-values.yaml" --yes

step "kubectl tpe status (as the operator)"
as "$OPERATOR" bin/kubectl-tpe status || echo "(status exit code $?: something is unhealthy)"

step "Done: the cluster and the chart repository keep running"
cat <<EOF2
Point kubectl and helm at the cluster:
  export PATH=$CLUSTER_BIN:\$PATH
  export KUBECONFIG=$ADMIN        # cluster admin
  export KUBECONFIG=$OPERATOR     # TPE operator (namespace thingpark-enterprise)
  export HELM_CONFIG_HOME=$R/helm-home/config HELM_CACHE_HOME=$R/helm-home/cache HELM_DATA_HOME=$R/helm-home/data
  kubectl get statefulsets,deployments -n thingpark-enterprise
Chart repository: $URL (user = password = the installation ID in $R/installation-id)
Stop everything:  make cluster-down
EOF2
