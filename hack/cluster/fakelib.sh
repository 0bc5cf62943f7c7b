# fakelib.sh -- shared by the fake in-pod commands in fakebin/ (sourced, not executed).
# kwok runs them on the host for `kubectl exec`; they inherit kwok's environment from start.sh:
#   TPE_FAKE_STATE      state dir of this cluster (RUN_DIR/fake); every call is appended to calls.log
#   TPE_FAKE_KUBECTL    the cluster's kubectl; TPE_FAKE_KUBECONFIG its admin kubeconfig
#   TPE_FAKE_DATA       hack/cluster/fakedata; TPE_FAKE_NAMESPACE the default TPE namespace
# kwok does not pass exit codes through (kubectl only sees success/failure) nor stdin EOF.
set -euo pipefail
: "${TPE_FAKE_STATE:?TPE_FAKE_STATE is not set (the fakes run under kwok, started by hack/cluster/start.sh)}"
FAKE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TPE_FAKE_DATA=${TPE_FAKE_DATA:-$FAKE_LIB_DIR/fakedata}
mkdir -p "$TPE_FAKE_STATE/pum" "$TPE_FAKE_STATE/controller/backups"
printf '%s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$0")" "$*" >> "$TPE_FAKE_STATE/calls.log"

# fake_lock: serialises the fakes of one cluster (state read-modify-write).
fake_lock() { exec 8>"$TPE_FAKE_STATE/.lock"; flock 8; }

# fake_fail CMD: when $TPE_FAKE_STATE/controller/fail-CMD exists, print its content as an
# ansible-style failure and exit 1 (failure injection for tests).
fake_fail() {
  local f="$TPE_FAKE_STATE/controller/fail-$1"
  [ -f "$f" ] || return 0
  printf 'localhost failed: {\n    "changed": false,\n    "msg": "%s"\n}\n' "$(head -1 "$f")"
  exit 1
}

# fake_extra_var NAME ARGS... prints the value of `-e NAME=value` (ansible-style extra vars).
fake_extra_var() {
  local name=$1; shift
  while [ $# -gt 0 ]; do
    case $1 in
      -e|--extra-vars) shift; [ "${1%%=*}" = "$name" ] && { printf '%s' "${1#*=}"; return 0; } ;;
      -e*) local kv=${1#-e}; [ "${kv%%=*}" = "$name" ] && { printf '%s' "${kv#*=}"; return 0; } ;;
    esac
    shift || true
  done
  return 1
}

# fake_release_info prints "key=value" lines of the ConfigMap tpe-release-info (rendered by the
# thingpark-enterprise fixture chart): in TPE_FAKE_NAMESPACE, else the first one in any namespace.
fake_release_info() {
  local k=("$TPE_FAKE_KUBECTL" --kubeconfig "$TPE_FAKE_KUBECONFIG") tpl ns
  tpl='{{range $k, $v := .data}}{{$k}}={{$v}}{{"\n"}}{{end}}'
  if "${k[@]}" -n "${TPE_FAKE_NAMESPACE:-thingpark-enterprise}" get configmap tpe-release-info -o go-template="$tpl" 2>/dev/null; then
    return 0
  fi
  ns=$("${k[@]}" get configmap -A --field-selector metadata.name=tpe-release-info -o jsonpath='{.items[0].metadata.namespace}' 2>/dev/null || true)
  [ -n "$ns" ] || return 1
  "${k[@]}" -n "$ns" get configmap tpe-release-info -o go-template="$tpl"
}

# fake_playbook_header PLAYBOOK TITLE
fake_playbook_header() {
  printf 'Executing playbook %s\n\n- %s on hosts: localhost -\nGathering Facts...\nlocalhost ok\n' "$1" "$2"
}
