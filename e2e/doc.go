// Package e2e holds the end-to-end tests. They start a local Kubernetes control plane and a chart
// repository (e2e/framework), and the first run builds the cluster binaries from the Go module
// proxy, so they are behind the build tag e2e: `go test ./...` runs only the unit tests.
//
//	make test-e2e                                  # all of them
//	go test -tags e2e ./e2e/ -run TestName -count=1 -v -timeout 20m
package e2e
