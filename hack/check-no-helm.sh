#!/usr/bin/env bash
# check-no-helm.sh -- kubectl-tpe must never link helm.sh/helm:
# 1) `go list -deps ./cmd/kubectl-tpe` names no helm.sh package;
# 2) a kubectl-tpe binary built from this checkout has no helm.sh symbol (go tool nm on an
#    unstripped build) and no helm.sh module in its build info (go version -m).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
if deps=$($GO list -deps ./cmd/kubectl-tpe | grep '^helm\.sh/'); then
  echo "error: kubectl-tpe imports helm (depguard should have caught it):" >&2; echo "$deps" >&2; exit 1
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 $GO build -trimpath -o "$tmp/kubectl-tpe" ./cmd/kubectl-tpe
n=$($GO tool nm "$tmp/kubectl-tpe" | grep -c 'helm\.sh/' || true)
m=$($GO version -m "$tmp/kubectl-tpe" | grep -c 'helm\.sh/' || true)
if [ "$n" != 0 ] || [ "$m" != 0 ]; then
  echo "error: the kubectl-tpe binary links helm: $n helm.sh symbols, $m helm.sh modules" >&2; exit 1
fi
echo "kubectl-tpe links no helm: 0 helm.sh packages, symbols and modules ($($GO tool nm "$tmp/kubectl-tpe" | wc -l) symbols checked)"
