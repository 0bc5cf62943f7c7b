// Package bundletest builds small verified release bundles for unit tests: the releases of the
// embedded matrix, with placeholder chart files (tests that load the charts need real ones).
package bundletest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
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

// Files returns the regular files of a .tar.gz (a bundle, or a packed chart) in their order,
// and their contents.
func Files(t testing.TB, data []byte) ([]string, map[string][]byte) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = b
	}
}

// Pack returns the .tar.gz of files, in the order of names.
func Pack(t testing.TB, names []string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Resum returns the bundle data with change applied to each file's content and, when resum is
// set, SHA256SUMS written again for the changed files (its signature kept as it is): what
// someone who replaces a file of a bundle does.
func Resum(t testing.TB, data []byte, resum bool, change func(name string, body []byte) []byte) []byte {
	t.Helper()
	names, files := Files(t, data)
	var sums strings.Builder
	for _, n := range names {
		files[n] = change(n, files[n])
		if n != bundle.SumsFile && n != bundle.SignatureFile {
			s := sha256.Sum256(files[n])
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(s[:]), n)
		}
	}
	if resum {
		files[bundle.SumsFile] = []byte(sums.String())
	}
	return Pack(t, names, files)
}
