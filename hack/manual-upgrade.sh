#!/usr/bin/env bash
# manual-upgrade.sh -- performs the TPE upgrade procedure (the vendor's) literally, as an operator
# would copy it from the web page: helm repo add with the installation ID, read the VERSIONS file,
# `helm upgrade` the four charts in order with `kubectl rollout status` between them, then poll
# `kubectl exec deploy/pum -- status` until every entry is PROCESSED or SKIPPED.
# It is the baseline of `make bench` (docs/benchmarks.md); it is not part of the product.
#
# env: KUBECONFIG, NAMESPACE (thingpark-enterprise), RELEASE (v7.3.1), CONFIG_DIR (dir with VERSIONS),
#      REPO_URL, INSTALLATION_ID_FILE, VALUES (values file), HELM, KUBECTL (binaries), PUM_POLL (5 s)
set -euo pipefail
: "${KUBECONFIG:?}" "${RELEASE:?}" "${CONFIG_DIR:?}" "${REPO_URL:?}" "${INSTALLATION_ID_FILE:?}" "${VALUES:?}"
NAMESPACE=${NAMESPACE:-thingpark-enterprise}
HELM=${HELM:-helm}; KUBECTL=${KUBECTL:-kubectl}; PUM_POLL=${PUM_POLL:-5}
ID=$(cat "$INSTALLATION_ID_FILE")
export HELM_REPOSITORY_CONFIG=${HELM_REPOSITORY_CONFIG:-$(mktemp -d)/repositories.yaml}
export HELM_REPOSITORY_CACHE=${HELM_REPOSITORY_CACHE:-$(mktemp -d)}

# Repositories configuration (the TPE upgrade procedure)
"$HELM" repo add --force-update --username "$ID" --password "$ID" actility "$REPO_URL" >/dev/null
"$HELM" repo update >/dev/null
# Release manifest
# shellcheck disable=SC1091
. "$CONFIG_DIR/VERSIONS"
CONTROLLERS_CHART=thingpark-application-controllers
CONTROLLERS_VERSION=${THINGPARK_APPLICATION_CONTROLLERS_VERSION:-}
if [ -z "$CONTROLLERS_VERSION" ]; then
  CONTROLLERS_CHART=thingpark-enterprise-controllers; CONTROLLERS_VERSION=$THINGPARK_ENTERPRISE_CONTROLLERS_VERSION
fi

wait_all() { # Wait for all statefulsets and deployments readiness (the TPE upgrade procedure)
  for w in $("$KUBECTL" get -n "$NAMESPACE" statefulsets.apps,deployments.apps -o name); do
    "$KUBECTL" rollout status -n "$NAMESPACE" "$w" --timeout=20m >/dev/null
  done
}

"$HELM" upgrade -i tpe-data-controllers -n "$NAMESPACE" actility/thingpark-data-controllers \
  --version "$THINGPARK_DATA_CONTROLLERS_VERSION" -f "$VALUES" >/dev/null
wait_all
"$HELM" upgrade -i tpe-data -n "$NAMESPACE" actility/thingpark-data --version "$THINGPARK_DATA_VERSION" -f "$VALUES" >/dev/null
wait_all
"$HELM" upgrade -i tpe-controllers -n "$NAMESPACE" "actility/$CONTROLLERS_CHART" --version "$CONTROLLERS_VERSION" -f "$VALUES" >/dev/null
wait_all
"$HELM" upgrade -i tpe --timeout 10m -n "$NAMESPACE" actility/thingpark-enterprise --version "$THINGPARK_ENTERPRISE_VERSION" -f "$VALUES" >/dev/null
wait_all
# Post upgrade verifications: poll the post-upgrade manager until every entry is processed
while :; do
  out=$("$KUBECTL" exec -n "$NAMESPACE" deploy/pum -- status 2>/dev/null || true)
  total=$(printf '%s\n' "$out" | sed -n 's/^\([0-9][0-9]*\) entrie(s).*/\1/p' | head -1)
  done_n=$(printf '%s\n' "$out" | grep -cE "^state: '(PROCESSED|SKIPPED)'" || true)
  if printf '%s\n' "$out" | grep -q "^state: 'ABORTED'"; then echo "post-upgrade ABORTED" >&2; exit 2; fi
  if [ -n "$total" ] && [ "$total" = "$done_n" ]; then break; fi
  sleep "$PUM_POLL"
done
echo "manual upgrade to $RELEASE done"
