#!/usr/bin/env bash
# test-deps.sh -- what the packaging e2e tests (e2e/plugins_test.go) need beyond Go and the cluster
# binaries: bash-completion (cobra's bash completion, like kubectl's, is built on its
# _get_comp_words_by_ref; installed with apt-get when run as root) and the pinned goreleaser and
# helm v4 of hack/tools (built once, stamped).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! [ -f /usr/share/bash-completion/bash_completion ] && ! [ -f /etc/bash_completion ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing bash-completion (apt-get) for the bash completion test"
    apt-get install -y -qq bash-completion >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bash-completion >/dev/null; }
  else
    echo "error: the bash completion test needs the bash-completion package: install it (e.g. sudo apt-get install bash-completion)" >&2
    exit 1
  fi
fi
TOOLS="goreleaser helm" hack/tools/build.sh
