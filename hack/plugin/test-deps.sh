#!/usr/bin/env bash
# test-deps.sh -- what the packaging e2e tests (e2e/plugins_test.go) need beyond Go and the cluster
# binaries: the pinned goreleaser and helm v4 of hack/tools (built once with Go, stamped). It
# installs no system package: the bash completion test uses the bash-completion package when it is
# installed, and a minimal stand-in of its one needed function otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS="goreleaser helm" hack/tools/build.sh
