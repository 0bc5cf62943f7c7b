# Packaging, lint and docs targets (issue 7). Tools are pinned in hack/tools/go.mod and built once
# into $(TOOLS_BIN), outside the repo, by hack/tools/build.sh (stamped per version).
TOOLS_BIN ?= $(shell . hack/tools/versions.sh && echo $$TOOLS_BIN)
GOLANGCI_LINT ?= $(TOOLS_BIN)/golangci-lint
GORELEASER ?= $(TOOLS_BIN)/goreleaser
HELM4 ?= $(TOOLS_BIN)/helm4
# Tests that exercise the packaging with the real tools (helm v3 and v4, kubectl, goreleaser, bash).
PLUGIN_TESTS ?= TestHelmPlugin|TestKrew|TestCompletion|TestGoReleaser

.PHONY: tools
tools: ## Build the pinned goreleaser, golangci-lint and helm v4 (once; see hack/tools)
	hack/tools/build.sh

$(GOLANGCI_LINT) $(GORELEASER) $(HELM4):
	TOOLS="$(notdir $(subst helm4,helm,$@))" hack/tools/build.sh

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint v2 (.golangci.yml) + the no-helm-in-kubectl-tpe check
	$(GOLANGCI_LINT) run ./...
	hack/check-no-helm.sh

.PHONY: lint-fix
lint-fix: $(GOLANGCI_LINT) ## golangci-lint with --fix (gofmt, gci, ...)
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: check-no-helm
check-no-helm: ## kubectl-tpe neither imports nor links helm.sh/helm
	hack/check-no-helm.sh

.PHONY: dist
dist: $(GORELEASER) ## Release archives + checksums of both plugins for every platform (goreleaser snapshot), krew manifest rendered
	$(GORELEASER) release --snapshot --clean
	$(GO) run ./hack/krew render -template krew/tpe.yaml -dist dist -o dist/krew/tpe.yaml
	$(GO) run ./hack/krew validate -manifest dist/krew/tpe.yaml

.PHONY: verify-krew
verify-krew: ## Validate the krew manifest rendered from dist/ (validate-krew-manifest when on PATH)
	@test -f dist/checksums.txt || { echo "dist/ is missing: run make dist first" >&2; exit 1; }
	$(GO) run ./hack/krew render -template krew/tpe.yaml -dist dist -o dist/krew/tpe.yaml
	@if command -v validate-krew-manifest >/dev/null 2>&1; then \
	  if kubectl krew version >/dev/null 2>&1; then validate-krew-manifest -manifest dist/krew/tpe.yaml; \
	  else echo "kubectl krew is not installed: validate-krew-manifest -skip-install"; \
	       validate-krew-manifest -manifest dist/krew/tpe.yaml -skip-install; fi; \
	else echo "validate-krew-manifest is not on PATH: using hack/krew (krew's rules, see internal/packaging)"; \
	  $(GO) run ./hack/krew validate -manifest dist/krew/tpe.yaml; \
	  tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	  link=$$($(GO) run ./hack/krew install -manifest dist/krew/tpe.yaml -dist dist -root $$tmp | tail -n 1) && \
	  $$link version; fi

.PHONY: docs
docs: ## Generate docs/commands/ (one page per command) from both cobra trees
	$(GO) run ./hack/gendocs -dir docs/commands

.PHONY: verify-docs
verify-docs: ## Fail when docs/commands/ is stale (run make docs)
	$(GO) run ./hack/gendocs -dir docs/commands -verify

# `make test` also runs the packaging unit tests, and its e2e step gets what the packaging e2e
# tests need first (goreleaser and helm v4, built with Go; no system package is installed).
test: test-packaging
test-e2e: plugin-test-deps

.PHONY: test-packaging
test-packaging: ## Unit tests of the packaging: manifests vs goreleaser, krew rules, docs up to date
	$(GO) test -tags $(E2E_TAGS) ./internal/packaging/... ./hack/gendocs/... ./hack/krew/...

.PHONY: plugin-test-deps
plugin-test-deps: ## The pinned goreleaser + helm v4 (built with Go, once) for the e2e packaging tests
	hack/plugin/test-deps.sh

.PHONY: test-plugins
test-plugins: test-packaging plugin-test-deps ## Packaging tests only: unit + e2e (helm v3/v4 install, krew install, completion; starts the e2e cluster)
	$(GO) test ./pkg/cmd/...
	$(GO) test -tags $(E2E_TAGS) ./e2e/ -count=1 -v -run '$(PLUGIN_TESTS)'
