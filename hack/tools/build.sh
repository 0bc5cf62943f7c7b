#!/usr/bin/env bash
# build.sh [OUT_BIN_DIR] -- builds the pinned developer tools of hack/tools/go.mod from the Go module
# proxy: goreleaser, golangci-lint and helm v4 (for the Helm 4 plugin-install test).
# Default OUT: ${XDG_CACHE_HOME:-~/.cache}/kubectl-tpe/tools-<versions>/bin (outside the repo), stamped:
# a second run with the same versions does nothing. TOOLS="goreleaser helm" builds a subset.
# Runs under `nice` so that it does not starve the other builds of a small machine.
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
. "$H/versions.sh"
OUT=${1:-$TOOLS_BIN}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
# Two runs on one machine build each tool once: the second waits for the first.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.build.lock"
  if ! flock -n 9; then echo "another build of the tools is running; waiting for it"; flock 9; fi
fi
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off
cd "$H"
for tool in ${TOOLS:-golangci-lint helm goreleaser}; do
  case $tool in
    goreleaser) v=$GORELEASER_VERSION; pkg=github.com/goreleaser/goreleaser/v2
      ldf="-X main.version=${v#v} -X main.builtBy=hack/tools" ;;
    golangci-lint) v=$GOLANGCI_LINT_VERSION; pkg=github.com/golangci/golangci-lint/v2/cmd/golangci-lint
      ldf="-X main.version=${v#v}" ;;
    helm) v=$HELM4_VERSION; pkg=helm.sh/helm/v4/cmd/helm
      ldf="-X helm.sh/helm/v4/internal/version.version=$v" ;;
    *) echo "build.sh: unknown tool $tool (want goreleaser, golangci-lint or helm)" >&2; exit 1 ;;
  esac
  name=$tool; [ "$tool" = helm ] && name=helm4
  stamp="$OUT/.stamp-$name-$v"
  if [ -f "$stamp" ] && [ -x "$OUT/$name" ]; then echo "$name $v up to date in $OUT"; continue; fi
  # The Go tool's output (hundreds of "go: downloading" lines) goes to a log, not to the terminal.
  log="$(dirname "$OUT")/build-$name.log"
  echo "building $name $v once from the Go module proxy (5 to 30 minutes on 2 cores, cached afterwards in $OUT); Go's output is in $log"
  t0=$(date +%s)
  if ! nice -n "${NICE:-10}" go build -trimpath -ldflags "-s -w $ldf" -o "$OUT/$name" "$pkg" > "$log" 2>&1; then
    echo "error: building $name $v failed; the end of $log:" >&2
    tail -n 30 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
  touch "$stamp"
  echo "  built $name $v in $(( $(date +%s) - t0 )) s ($(du -h "$OUT/$name" | cut -f1))"
done
