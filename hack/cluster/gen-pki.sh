#!/usr/bin/env bash
# gen-pki.sh PKI_DIR -- throwaway PKI for a loopback-only test control plane (ECDSA P-256, fast).
# Certificates: CA, apiserver and kwok "kubelet" serving certs, client certs for admin (system:masters),
# operator (CN=tpe-operator, O=tpe-operators; no rights until start.sh binds them), kcm, scheduler, kwok,
# apiserver->kubelet client, and the service-account signing key. Idempotent: does nothing if ca.crt exists.
set -euo pipefail
D=${1:?usage: gen-pki.sh PKI_DIR}; mkdir -p "$D"; cd "$D"
[ -f sa.pub ] && exit 0
umask 077
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=tpe-test-ca" -out ca.crt 2>/dev/null
sign() { # name subj [san]
  local n=$1 subj=$2 san=${3:-}
  key "$n.key"
  openssl req -new -key "$n.key" -subj "$subj" -out "$n.csr" 2>/dev/null
  if [ -n "$san" ]; then printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$n.ext"
  else printf 'extendedKeyUsage=clientAuth\n' > "$n.ext"; fi
  openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$n.ext" -out "$n.crt" 2>/dev/null
  rm -f "$n.csr" "$n.ext"
}
sign apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
sign kubelet "/CN=kwok-kubelet" "IP:127.0.0.1,DNS:localhost"
sign admin "/O=system:masters/CN=admin"
sign operator "/O=tpe-operators/CN=tpe-operator"
sign kcm "/CN=system:kube-controller-manager"
sign sched "/CN=system:kube-scheduler"
sign kwok "/O=system:masters/CN=kwok-controller"
sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
key sa.key
openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
