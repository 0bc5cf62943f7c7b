# Benchmarks (issue 8): Go micro-benchmarks, then TestBench on a local cluster (e2e/bench_test.go):
# manual procedure vs helm tpe upgrade, preflight/status/wait at 10/1,000/5,000 pods, wait latency,
# binary sizes and start-up time. Figures are printed as "BENCH ..." lines and kept in
# $(BENCH_OUT); docs/benchmarks.md records them with the commands.
BENCH_OUT ?= $(CURDIR)/bin/bench-results.txt
BENCH_PODS ?= 10,1000,5000
BENCH_RUNS ?= 3
BENCH_UPGRADE_RUNS ?= 1
BENCH_LATENCY_RUNS ?= 7
CRANE_VERSION ?= v0.22.1

.PHONY: bench
bench: build bench-go bench-cluster ## Benchmarks: Go benchmarks, then manual vs helm tpe upgrade, scale, wait latency, footprint on a local cluster

.PHONY: bench-go
bench-go: ## Go benchmarks of the parsers and of status/wait at 10/1000/5000 pods (fake clientsets)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/pum ./pkg/wait ./pkg/status ./pkg/bundle

.PHONY: bench-cluster
bench-cluster: ## The cluster benchmarks alone (TestBench; knobs BENCH_PODS, BENCH_RUNS, BENCH_UPGRADE_RUNS, BENCH_LATENCY_RUNS)
	@uptime
	TPE_BENCH=1 TPE_BENCH_PODS=$(BENCH_PODS) TPE_BENCH_RUNS=$(BENCH_RUNS) TPE_BENCH_UPGRADE_RUNS=$(BENCH_UPGRADE_RUNS) \
	  TPE_BENCH_LATENCY_RUNS=$(BENCH_LATENCY_RUNS) TPE_BENCH_BIN_DIR=$(CURDIR)/bin TPE_BENCH_OUT=$(BENCH_OUT) \
	  $(GO) test -tags $(E2E_TAGS) ./e2e/ -run '^TestBench$$' -count=1 -v -timeout 90m
	@echo "figures: $(BENCH_OUT)"; grep '^BENCH ' $(BENCH_OUT) || true

.PHONY: bench-images
bench-images: ## Images in bundles (issue 20): bundle create --images and bundle push against crane copy on the loopback, dedup ratio, peak RSS with a 1 GiB image (no cluster)
	@. hack/tools/versions.sh; dir=$$TPE_CACHE/tools-crane-$(CRANE_VERSION)/bin; \
	  [ -x $$dir/crane ] || { echo "building crane $(CRANE_VERSION) once from the Go module proxy into $$dir"; \
	    GOBIN=$$dir GOFLAGS= CGO_ENABLED=0 nice $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION); }; \
	  TPE_BENCH_CRANE=$$dir/crane TPE_BENCH_OUT=$(BENCH_OUT) $(GO) test -tags bench ./e2e/imagesbench/ -run '^TestImagesBench$$' -count=1 -v -timeout 60m
