# Versions of the developer tools built by hack/tools/build.sh (pinned in hack/tools/go.mod).
# Sourced by hack/tools/build.sh and read by hack/make/release.mk.
GORELEASER_VERSION=v2.15.1
GOLANGCI_LINT_VERSION=v2.15.0
HELM4_VERSION=v4.3.2
TOOLS_KEY=goreleaser$GORELEASER_VERSION-golangcilint$GOLANGCI_LINT_VERSION-helm$HELM4_VERSION
TPE_CACHE=${TPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-tpe}
TOOLS_BIN=${TOOLS_BIN:-$TPE_CACHE/tools-$TOOLS_KEY/bin}
