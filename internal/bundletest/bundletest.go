// Package bundletest builds small verified release bundles for unit tests: the releases of the
// embedded matrix, with placeholder chart files (tests that load the charts need real ones).
package bundletest

import (
	"bytes"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// New returns a verified bundle named file holding the releases tags (in path order, the last one
// its target), each listing images.
func New(t testing.TB, file string, images []string, tags ...string) *bundle.Bundle {
	t.Helper()
	data := Bytes(t, images, tags...)
	b, err := bundle.Read(file, bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Bytes returns the file of the bundle New reads (to write it where a command reads --bundle).
func Bytes(t testing.TB, images []string, tags ...string) []byte {
	t.Helper()
	m := manifest.MustLoad()
	bm := bundle.Manifest{}
	var files []bundle.File
	seen := map[string]bool{}
	for _, tag := range tags {
		rel, ok := m.Get(tag)
		if !ok {
			t.Fatalf("bundletest: no release %s in the matrix", tag)
		}
		br := bundle.Release{Release: rel, Versions: bundle.ReleasePath(tag, "VERSIONS"), Images: images}
		files = append(files, bundle.File{Path: br.Versions, Data: []byte(manifest.FormatVersions(rel))})
		for _, c := range rel.Charts() {
			p := bundle.ChartPath(c.Chart, c.Version)
			br.Charts = append(br.Charts, bundle.Chart{Name: c.Chart, Version: c.Version, File: p})
			if !seen[p] {
				seen[p] = true
				files = append(files, bundle.File{Path: p, Data: []byte(p)})
			}
		}
		bm.Releases = append(bm.Releases, br)
		bm.To = tag
	}
	var buf bytes.Buffer
	if _, err := bundle.Write(&buf, &bm, files, nil, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
