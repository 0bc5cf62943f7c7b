#!/bin/sh
# install.sh -- install/update hook of the helm-tpe Helm plugin (plugin.yaml). Helm runs it with
# HELM_PLUGIN_DIR set to the plugin directory.
# - In a source checkout (go.mod present) it builds bin/helm-tpe with `go build` (incremental).
# - In an unpacked release archive (no go.mod) it checks that bin/helm-tpe is there.
# It never downloads anything. Exit status non-zero makes `helm plugin install` fail and say why.
set -eu
dir=${HELM_PLUGIN_DIR:?HELM_PLUGIN_DIR is not set: this hook is run by helm plugin install}
bin="$dir/bin/helm-tpe"
if [ ! -f "$dir/go.mod" ]; then
  if [ -x "$bin" ]; then echo "helm-tpe: using the release binary $bin"; exit 0; fi
  echo "error: $bin is missing and $dir has no go.mod to build it from: install a release archive of helm-tpe or a source checkout" >&2
  exit 1
fi
if ! command -v "${GO:-go}" >/dev/null 2>&1; then
  if [ -x "$bin" ]; then echo "helm-tpe: no Go toolchain on PATH, keeping the existing $bin"; exit 0; fi
  echo "error: building helm-tpe from source needs Go (see go.mod for the version) on PATH, or install a release archive of helm-tpe" >&2
  exit 1
fi
version=$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$dir/plugin.yaml" | head -n 1)
echo "helm-tpe: building v$version from source in $dir"
cd "$dir"
CGO_ENABLED=0 "${GO:-go}" build -trimpath \
  -ldflags "-s -w -X github.com/thingpark-tools/kubectl-tpe/pkg/cli.version=v$version" \
  -o "$bin" ./cmd/helm-tpe
echo "helm-tpe: built $bin"
