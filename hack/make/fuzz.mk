# Fuzz tests (issue 8). Every `go test` runs the seed corpora (testdata/fuzz/<Fuzz...> of each
# package); `make fuzz` also mutates each target for FUZZTIME. `make test` runs it.
FUZZTIME ?= 8s
FUZZ_TARGETS ?= \
	./pkg/manifest:FuzzParseVersions \
	./pkg/pum:FuzzParse \
	./pkg/values:FuzzParse \
	./pkg/values:FuzzBackup \
	./pkg/values:FuzzCheckTLS

.PHONY: fuzz
fuzz: ## Run each fuzz test (VERSIONS, pum status, values/backup/TLS) for FUZZTIME (default 8s)
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  $(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME); done

test: fuzz
