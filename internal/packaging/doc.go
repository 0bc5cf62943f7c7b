// Package packaging checks the release packaging of the two plugins against each other: the krew
// manifest (krew/tpe.yaml), the Helm plugin manifest (plugin.yaml) and the goreleaser
// configuration (.goreleaser.yaml) with the archives and checksums it produces.
//
// The krew rules are those krew's own validation applies (internal/index/validation and
// cmd/validate-krew-manifest of kubernetes-sigs/krew), re-implemented here because krew cannot be
// built on this project's machines; Install simulates what `kubectl krew install` does with an
// archive (sha256 check, unpack, files from/to, bin link).
package packaging
