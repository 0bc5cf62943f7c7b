# Local cluster, end-to-end tests and demo (issue 3). The cluster binaries (k8s, etcd, kwok, helm) are
# built once from the Go module proxy into ~/.cache/kubectl-tpe (hack/cluster/build.sh, stamped).
E2E_FLAGS ?= -count=1 -p 1 -timeout 45m -v
TPE_RUN_DIR ?= $(shell . hack/cluster/versions.sh && echo $$TPE_CACHE/run/demo)

.PHONY: test
test: test-unit test-tools test-e2e ## Unit tests, then the end-to-end tests against a local cluster

.PHONY: test-tools
test-tools: ## Tests of the test/dev tools (fixture chart repository and charts)
	$(GO) test ./internal/chartrepo/...

.PHONY: test-e2e
test-e2e: ## End-to-end tests: starts a local cluster + chart repo (builds the cluster binaries once: 10-20 min on 2 cores)
	$(GO) test -tags $(E2E_TAGS) ./e2e/... $(E2E_FLAGS)

.PHONY: cluster-binaries
cluster-binaries: ## Build kube-apiserver, kcm, scheduler, kubectl, etcd, kwok, helm into ~/.cache/kubectl-tpe (once)
	hack/cluster/build.sh

.PHONY: cluster-up
cluster-up: ## Start a long-lived local cluster (run dir ~/.cache/kubectl-tpe/run/demo) and print how to use it
	TPE_RUN_DIR=$(TPE_RUN_DIR) hack/cluster/up.sh

.PHONY: cluster-down
cluster-down: ## Stop the cluster (and the demo's chart repository) started by cluster-up / demo
	TPE_RUN_DIR=$(TPE_RUN_DIR) hack/cluster/down.sh

.PHONY: demo
demo: ## Build both plugins, start the cluster and the chart repo, install the fixture release; leaves it running
	TPE_RUN_DIR=$(TPE_RUN_DIR) hack/demo.sh

.PHONY: clean
clean: cluster-down ## Stop the demo cluster, remove bin/, dist/ and the demo run dir (keeps the cluster binaries)
	rm -rf bin dist "$(TPE_RUN_DIR)"
