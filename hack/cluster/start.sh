#!/usr/bin/env bash
# start.sh RUN_DIR -- starts a local Kubernetes control plane for tests and the demo, on 127.0.0.1 only:
# etcd, kube-apiserver (RBAC, x509 client certs, JSON audit log), kube-controller-manager,
# kube-scheduler and kwok (three fake nodes that run pods "ready" and serve `kubectl exec` with the
# fake in-pod commands of hack/cluster/fakebin).
#
# Free ports are picked automatically (several clusters may run on one machine) and written to
# RUN_DIR/ports.env. RUN_DIR receives:
#   admin.kubeconfig     cluster-admin (CN=admin, O=system:masters), context namespace thingpark-enterprise
#   operator.kubeconfig  CN=tpe-operator: exactly the TPE operator profile in namespace thingpark-enterprise
#   audit.log            apiserver audit log, JSON lines, level Metadata (control-plane users excluded)
#   fake/                state of the fake in-pod commands (TPE_FAKE_STATE)
#   env.sh               `. RUN_DIR/env.sh` exports KUBECONFIG (admin) and PATH (cluster kubectl/helm)
#   pki/ log/ pid/ etcd/ ports.env kwok.yaml audit-policy.yaml run-apiserver.sh
# Stop it with stop.sh RUN_DIR. Env: CLUSTER_BIN (binaries, default from versions.sh), TPE_NAMESPACE
# (default thingpark-enterprise), NO_KWOK=1 (no fake nodes), START_TIMEOUT (seconds, default 120).
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
. "$H/versions.sh"
R=${1:?usage: start.sh RUN_DIR}
BIN=${BIN:-$CLUSTER_BIN}
NS=${TPE_NAMESPACE:-thingpark-enterprise}
TIMEOUT=${START_TIMEOUT:-120}
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl; do
  [ -x "$BIN/$b" ] || { echo "start.sh: $BIN/$b is missing; run hack/cluster/build.sh first" >&2; exit 1; }
done
mkdir -p "$R"/{log,pid,etcd,fake}; R=$(cd "$R" && pwd); P=$R/pki
if ls "$R"/pid/* >/dev/null 2>&1; then
  for f in "$R"/pid/*; do
    if kill -0 "$(cat "$f")" 2>/dev/null; then echo "start.sh: $R is already running ($(basename "$f") pid $(cat "$f")); stop.sh it first" >&2; exit 1; fi
  done
  rm -f "$R"/pid/*
fi
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# --- ports: four free loopback ports, claimed under a lock so concurrent start.sh runs never collide.
PORTS_DIR=$TPE_CACHE/ports; mkdir -p "$PORTS_DIR"
claim_ports() {
  local chosen=() p owner tries=0
  while [ ${#chosen[@]} -lt 4 ]; do
    tries=$((tries+1)); [ $tries -lt 2000 ] || { echo "start.sh: no free port found" >&2; return 1; }
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    case " ${chosen[*]:-} " in *" $p "*) continue;; esac
    if [ -f "$PORTS_DIR/$p" ]; then
      # taken while the claim is fresh (a start in progress) or its run dir still has a live process
      [ -n "$(find "$PORTS_DIR/$p" -mmin -2 2>/dev/null)" ] && continue
      owner=$(cat "$PORTS_DIR/$p" 2>/dev/null || true) live=0
      for f in "$owner"/pid/*; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && live=1; done
      [ $live = 1 ] && continue
    fi
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
    chosen+=("$p")
  done
  for p in "${chosen[@]}"; do echo "$R" > "$PORTS_DIR/$p"; done
  printf 'PORT=%s\nETCD_PORT=%s\nETCD_PEER_PORT=%s\nKUBELET_PORT=%s\n' "${chosen[@]}" > "$R/ports.env"
}
reuse_ports() { # a restarted run dir keeps its ports (etcd remembers its peer URL) when they are still free
  [ -f "$R/ports.env" ] || return 1
  . "$R/ports.env"
  for p in "$PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KUBELET_PORT"; do
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && return 1
    owner=$(cat "$PORTS_DIR/$p" 2>/dev/null || true); [ -z "$owner" ] || [ "$owner" = "$R" ] || return 1
  done
  for p in "$PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KUBELET_PORT"; do echo "$R" > "$PORTS_DIR/$p"; done
}
exec 9>"$PORTS_DIR/.lock"; flock 9; reuse_ports || claim_ports; flock -u 9; exec 9>&-
. "$R/ports.env"
SERVER=https://127.0.0.1:$PORT

# --- PKI and kubeconfigs
"$H/gen-pki.sh" "$P"
"$H/kubeconfig.sh" "$P" admin "$SERVER" "$NS" > "$R/admin.kubeconfig"
"$H/kubeconfig.sh" "$P" operator "$SERVER" "$NS" > "$R/operator.kubeconfig"
for u in kcm sched kwok; do "$H/kubeconfig.sh" "$P" $u "$SERVER" > "$R/$u.kubeconfig"; done
chmod 600 "$R"/*.kubeconfig

# --- audit policy: Metadata for everyone except the control plane's own chatter and health probes.
cat > "$R/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [system:kube-controller-manager, system:kube-scheduler, kwok-controller, system:apiserver, kube-apiserver-kubelet-client]
- level: None
  userGroups: ["system:serviceaccounts:kube-system", "system:nodes"]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
- level: Metadata
YAML

# --- etcd
"$BIN/etcd" --name default --data-dir "$R/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls="" \
  --quota-backend-bytes=1073741824 --unsafe-no-fsync \
  > "$R/log/etcd.log" 2>&1 & echo $! > "$R/pid/etcd"

# --- kube-apiserver (its command is kept in run-apiserver.sh so tests can restart it)
cat > "$R/run-apiserver.sh" <<SH
#!/usr/bin/env bash
# Starts kube-apiserver for $R in the background and writes its pid (used by start.sh and restart-apiserver.sh).
"$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:$ETCD_PORT \\
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=$PORT \\
  --cert-dir="$R/apiserver-certs" --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \\
  --client-ca-file="$P/ca.crt" \\
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$P/sa.pub" \\
  --service-account-signing-key-file="$P/sa.key" \\
  --service-cluster-ip-range=10.0.0.0/24 --authorization-mode=Node,RBAC --allow-privileged=true \\
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \\
  --kubelet-certificate-authority="$P/ca.crt" \\
  --kubelet-preferred-address-types=InternalIP --endpoint-reconciler-type=none \\
  --audit-policy-file="$R/audit-policy.yaml" --audit-log-path="$R/audit.log" --audit-log-format=json \\
  --audit-log-mode=blocking --audit-log-maxbackup=0 \\
  ${APISERVER_EXTRA_ARGS:-} >> "$R/log/kube-apiserver.log" 2>&1 &
echo \$! > "$R/pid/kube-apiserver"
SH
chmod +x "$R/run-apiserver.sh"
"$R/run-apiserver.sh"
"$H/wait-apiserver.sh" "$R" "$TIMEOUT"
echo "apiserver ready after $(elapsed) s (https://127.0.0.1:$PORT)"

# --- controllers
# Both run under supervise.sh, which starts them again if they exit (see there).
"$H/supervise.sh" "$R/log/kube-controller-manager.log" "$BIN/kube-controller-manager" --kubeconfig="$R/kcm.kubeconfig" \
  --authentication-kubeconfig="$R/kcm.kubeconfig" --authorization-kubeconfig="$R/kcm.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  >/dev/null 2>&1 & echo $! > "$R/pid/kube-controller-manager"
"$H/supervise.sh" "$R/log/kube-scheduler.log" "$BIN/kube-scheduler" --kubeconfig="$R/sched.kubeconfig" \
  --authentication-kubeconfig="$R/sched.kubeconfig" --authorization-kubeconfig="$R/sched.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
  >/dev/null 2>&1 & echo $! > "$R/pid/kube-scheduler"

# --- kwok: upstream stages + a ClusterExec that runs `kubectl exec` commands on this host.
# kwok's exec child inherits kwok's own environment (sigs.k8s.io/kwok pkg/utils/exec: cmd.Env =
# os.Environ() + the ClusterExec envs), so the per-run settings of the fakes are passed as kwok's env.
if [ -z "${NO_KWOK:-}" ]; then
  { cat "$BIN/kwok-stages.yaml"
    # LoadBalancer Services get a fake external address (helm --wait waits for one), like a cloud LB.
    cat <<'YAML'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: service-load-balancer}
spec:
  resourceRef: {apiGroup: v1, kind: Service}
  selector:
    matchExpressions:
    - cel: {expression: "self.spec.type == 'LoadBalancer'"}
    - cel: {expression: "!has(self.status.loadBalancer) || !has(self.status.loadBalancer.ingress)"}
  steps:
  - patch:
      root: status
      subresource: status
      template: |
        loadBalancer:
          ingress:
          - ip: 192.0.2.10
YAML
    printf -- '---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterExec\nmetadata: {name: local-exec}\nspec:\n  execs:\n  - local:\n      workDir: %s\n      envs: [{name: KWOK_FAKE_POD, value: "1"}]\n' "$R/fake"
  } > "$R/kwok.yaml"
  PATH="$H/fakebin:$PATH" TPE_FAKE_STATE="$R/fake" TPE_FAKE_KUBECTL="$BIN/kubectl" \
  TPE_FAKE_KUBECONFIG="$R/admin.kubeconfig" TPE_FAKE_DATA="$H/fakedata" TPE_FAKE_NAMESPACE="$NS" \
    "$BIN/kwok" --kubeconfig="$R/kwok.kubeconfig" --config="$R/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-port="$KUBELET_PORT" \
    --server-address="127.0.0.1:$KUBELET_PORT" \
    --tls-cert-file="$P/kubelet.crt" --tls-private-key-file="$P/kubelet.key" \
    > "$R/log/kwok.log" 2>&1 & echo $! > "$R/pid/kwok"
fi

# --- bootstrap objects: namespace, operator RBAC, fake nodes
k() { "$BIN/kubectl" --kubeconfig "$R/admin.kubeconfig" "$@"; }
{ printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n---\n' "$NS"
  "$H/operator-rbac.sh" "$NS"
  [ -n "${NO_KWOK:-}" ] || "$H/nodes.sh"
} | k apply -f - >/dev/null
if [ -z "${NO_KWOK:-}" ]; then
  k wait --for=condition=Ready node --all --timeout="${TIMEOUT}s" >/dev/null
  echo "3 fake nodes ready after $(elapsed) s"
fi
# kcm's service-account controller is up once the namespace has its default ServiceAccount
deadline=$(( $(date +%s) + TIMEOUT ))
until k -n "$NS" get serviceaccount default >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "start.sh: kube-controller-manager did not create ServiceAccounts" >&2; tail -20 "$R/log/kube-controller-manager.log" >&2; exit 1; }
  sleep 0.2
done
cat > "$R/env.sh" <<SH
# . $R/env.sh -- point kubectl/helm at this cluster as cluster-admin
export KUBECONFIG=$R/admin.kubeconfig
export PATH=$BIN:\$PATH
export TPE_FAKE_STATE=$R/fake
SH
echo "cluster ready after $(elapsed) s: admin=$R/admin.kubeconfig operator=$R/operator.kubeconfig"
