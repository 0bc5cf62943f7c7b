# kubectl-tpe / helm-tpe. `make demo` and `make test` are the two commands a newcomer needs.
SHELL := /usr/bin/env bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# Tests that start a process (the e2e tests and their local cluster, the packaging test that builds
# both binaries) are behind this build tag: a plain `go test ./...` runs unit tests only and starts
# nothing. The targets that ran them before (test, test-e2e, test-packaging, test-plugins, bench,
# lint through .golangci.yml's run.build-tags) pass it.
E2E_TAGS ?= e2e
LDFLAGS := -s -w -X github.com/thingpark-tools/kubectl-tpe/pkg/cli.version=$(VERSION) -X github.com/thingpark-tools/kubectl-tpe/pkg/cli.commit=$(COMMIT)

.PHONY: build
build: ## Build bin/kubectl-tpe and bin/helm-tpe
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ ./cmd/kubectl-tpe ./cmd/helm-tpe

.PHONY: test-unit
test-unit: ## Unit tests (no cluster, no process started)
	$(GO) test ./...

.PHONY: help
help:
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-17s %s\n", $$1, $$2}'

# Further targets live in hack/make/*.mk (cluster and e2e, release and lint, benchmarks).
-include hack/make/*.mk
