#!/usr/bin/env bash
# build.sh [OUT_BIN_DIR] -- builds the local control plane from the Go module proxy:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s v1.37.2), etcd v3.6.8,
# kwok v0.8.0 and helm v3.21.4. Skips the build when the stamped directory already exists.
# Default OUT: ${XDG_CACHE_HOME:-~/.cache}/kubectl-tpe/cluster-<versions>/bin (outside the repo).
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
. "$H/versions.sh"
OUT=${1:-$CLUSTER_BIN}
STAMP="$OUT/.stamp-$CLUSTER_KEY"
if [ -f "$STAMP" ]; then echo "cluster binaries up to date in $OUT"; exit 0; fi
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
# Two test runs on one machine (two checkouts, say) build once: the second waits for the first.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.build.lock"
  if ! flock -n 9; then echo "another build of the cluster binaries is running; waiting for it"; flock 9; fi
  if [ -f "$STAMP" ]; then echo "cluster binaries up to date in $OUT"; exit 0; fi
fi
W=${WORK_DIR:-$(mktemp -d)}; mkdir -p "$W/kapi" "$W/etcdb"
trap 'rm -rf "$W"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0
KV=$K8S_VERSION; SV=v0.${KV#v1.}; MINOR=${KV#v1.}; MINOR=${MINOR%%.*}
# The Go tool's output (hundreds of "go: downloading" lines) goes to a log, not to the terminal.
LOG=${BUILD_LOG:-$(dirname "$OUT")/build.log}
: > "$LOG"
t0=$(date +%s)
echo "building the local cluster once (Kubernetes $KV control plane and kubectl, etcd $ETCD_VERSION, kwok $KWOK_VERSION, helm $HELM_VERSION) from the Go module proxy: about 10 to 20 minutes on 2 cores, cached afterwards in $OUT; Go's output is in $LOG"

# step NAME FUNCTION: runs FUNCTION with its output in $LOG and prints one line with its time;
# on failure prints the tail of the log. (Run in the background and waited for, so that set -e
# applies inside FUNCTION: it does not in an `if` or `||` context.)
step() {
  local name=$1 fn=$2 s rc=0
  s=$(date +%s)
  echo "== $name" >> "$LOG"
  "$fn" >> "$LOG" 2>&1 &
  wait $! || rc=$?
  if [ "$rc" != 0 ]; then
    echo "error: building $name failed (exit $rc); the end of $LOG:" >&2
    tail -n 30 "$LOG" | sed 's/^/  | /' >&2
    exit 1
  fi
  echo "  built $name in $(( $(date +%s) - s )) s"
}

# 1) kubernetes components: scratch module, every staging repo replaced by its published v0.N.x
CMDS="kube-apiserver kube-controller-manager kube-scheduler kubectl"
build_kubernetes() {
  cd "$W/kapi"
  go mod download -json k8s.io/kubernetes@$KV >/dev/null
  MOD=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KV.mod
  { printf 'module k8sharness/kapi\n\ngo 1.26.0\n\ngodebug default=go1.26\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' $KV
    for m in $(grep '=> ./staging' "$MOD" | awk '{print $1}'); do
      case $m in k8s.io/sample-cli-plugin|k8s.io/sample-controller) continue;; esac
      printf '\t%s => %s %s\n' $m $m $SV; done
    printf ')\n'; } > go.mod
  for c in $CMDS; do go get k8s.io/kubernetes/cmd/$c@$KV; done
  V="k8s.io/component-base/version"; CV="k8s.io/client-go/pkg/version"
  LDF="-s -w -X $V.gitVersion=$KV -X $V.gitMajor=1 -X $V.gitMinor=$MINOR -X $V.gitTreeState=clean -X $CV.gitVersion=$KV -X $CV.gitMajor=1 -X $CV.gitMinor=$MINOR"
  go build -trimpath -ldflags "$LDF" -o "$OUT/" $(for c in $CMDS; do echo k8s.io/kubernetes/cmd/$c; done)
}
# 2) etcd server (its go.mod has replace directives: scratch module)
build_etcd() {
  cd "$W/etcdb"; printf 'module k8sharness/etcdb\n\ngo 1.26.0\n' > go.mod
  go get go.etcd.io/etcd/server/v3@$ETCD_VERSION
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3
}
# 3) kwok (fake nodes/pods + kubelet exec server)
build_kwok() {
  GOBIN="$OUT" go install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION
  KW="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION"
  cp "$KW/kustomize/crd/bases/kwok.x-k8s.io_execs.yaml" "$OUT/"
  S="$KW/kustomize/stage"
  { for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml \
        pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml \
        volume/fast/pv-delete.yaml volume/fast/pvc-delete.yaml; do echo '---'; cat "$S/$f"; done
  } | sed "s#self.spec.storageClassName == 'kwok-volume'#has(self.spec.storageClassName) \&\& self.spec.storageClassName != ''#" > "$OUT/kwok-stages.yaml"
}
# 4) helm v3 (the real client, for plugin-install tests and the manual-procedure benchmark)
build_helm() {
  GOBIN="$OUT" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm.sh/helm/v3/cmd/helm@$HELM_VERSION
}
step "kube-apiserver, kube-controller-manager, kube-scheduler and kubectl $KV" build_kubernetes
step "etcd $ETCD_VERSION" build_etcd
step "kwok $KWOK_VERSION" build_kwok
step "helm $HELM_VERSION" build_helm
chmod -R u+w "$OUT"
touch "$STAMP"
echo "built cluster binaries in $OUT in $(( $(date +%s) - t0 )) s"
