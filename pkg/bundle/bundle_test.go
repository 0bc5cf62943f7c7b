package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

func sample(t *testing.T) (*Manifest, []File) {
	t.Helper()
	m := manifest.MustLoad()
	rel, ok := m.Get("v7.3.1")
	if !ok {
		t.Fatal("no v7.3.1 in the matrix")
	}
	br := Release{Release: rel, Versions: ReleasePath(rel.Name, "VERSIONS"), Images: []string{"b/img:2", "a/img:1"}}
	var files []File
	files = append(files, File{Path: br.Versions, Data: []byte(manifest.FormatVersions(rel))})
	for _, c := range rel.Charts() {
		p := ChartPath(c.Chart, c.Version)
		br.Charts = append(br.Charts, Chart{Name: c.Chart, Version: c.Version, File: p, Size: 5})
		files = append(files, File{Path: p, Data: []byte("chart " + c.Chart)})
	}
	files = append(files, File{Path: "admin/v7.3.1/strimzi-crds-0.32.0.yaml", Data: []byte("kind: CustomResourceDefinition\n")})
	return &Manifest{Created: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), CreatedBy: "test", ChartRepository: "https://charts.example",
		To: rel.Name, Releases: []Release{br},
		Admin: []AdminFile{{Hop: rel.Name, Step: "crd-strimzi", Source: "manifests/upgrade/strimzi-crds-0.32.0.yaml", File: "admin/v7.3.1/strimzi-crds-0.32.0.yaml"}}}, files
}

func write(t *testing.T, m *Manifest, files []File) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w, err := Write(&buf, m, files, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.Size != int64(buf.Len()) {
		t.Errorf("Write says %d bytes, wrote %d", w.Size, buf.Len())
	}
	return buf.Bytes(), w.Digest
}

func TestRoundTrip(t *testing.T) {
	m, files := sample(t)
	data, digest := write(t, m, files)
	var lines []string
	b, err := Read("b.tar.gz", bytes.NewReader(data), func(f string, a ...any) { lines = append(lines, f) })
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest != digest || b.Size != int64(len(data)) {
		t.Errorf("digest/size = %s/%d, want %s/%d", b.Digest, b.Size, digest, len(data))
	}
	if len(lines) != len(files)+2 {
		t.Errorf("%d progress lines for %d files + bundle.json + SHA256SUMS", len(lines), len(files))
	}
	if got := b.Manifest.Images(); strings.Join(got, ",") != "a/img:1,b/img:2" {
		t.Errorf("images = %v", got)
	}
	if _, err := b.Chart("thingpark-data", "1.3.5"); err != nil {
		t.Error(err)
	}
	if _, err := b.Chart("thingpark-data", "9.9.9"); err == nil || !strings.Contains(err.Error(), "v7.3.1") {
		t.Errorf("missing chart err = %v, want one naming the releases held", err)
	}
	mx := manifest.MustLoad()
	v722, _ := mx.Get("v7.2.2c")
	v731, _ := mx.Get("v7.3.1")
	if l := b.Lacks(v731); len(l) != 0 {
		t.Errorf("Lacks(v7.3.1) = %v", l)
	}
	if l := b.Lacks(v722, v731); len(l) != 4 || !strings.Contains(l[0], "(v7.2.2c)") {
		t.Errorf("Lacks(v7.2.2c, v7.3.1) = %v, want the 4 charts of v7.2.2c", l)
	}
	if r, ok := b.Manifest.Release("7.3.1"); !ok || r.Release.Name != "v7.3.1" {
		t.Errorf("Release(7.3.1) = %v %v", r.Release.Name, ok)
	}
}

// rewrite rebuilds a bundle's tar stream with edit applied to each entry (nil: drop it).
func rewrite(t *testing.T, data []byte, edit func(name string, body []byte) []byte, extra ...File) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		body = edit(h.Name, body)
		if body == nil {
			continue
		}
		h.Size = int64(len(body))
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(body)
	}
	for _, f := range extra {
		_ = tw.WriteHeader(&tar.Header{Name: f.Path, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(f.Data)
	}
	_ = tw.Close()
	_ = gw.Close()
	return out.Bytes()
}

func TestReadRefusesDamage(t *testing.T) {
	m, files := sample(t)
	data, _ := write(t, m, files)
	same := func(_ string, b []byte) []byte { return b }
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x01
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a bundle, or truncated"},
		{"not gzip", []byte("hello"), "not a bundle, or truncated"},
		{"truncated", data[:len(data)-40], "truncated"},
		{"cut in half", data[:len(data)/2], "truncated"},
		{"a flipped byte in the stream", flipped, "bundle b.tar.gz: "},
		{"a modified chart", rewrite(t, data, func(n string, b []byte) []byte {
			if strings.HasPrefix(n, "charts/thingpark-data-1") {
				return append([]byte("X"), b[1:]...)
			}
			return b
		}), "charts/thingpark-data-1.3.5.tgz does not match its checksum"},
		{"a dropped chart", rewrite(t, data, func(n string, b []byte) []byte {
			if strings.HasPrefix(n, "charts/thingpark-enterprise-") {
				return nil
			}
			return b
		}), "lacks charts/thingpark-enterprise-"},
		{"an extra file", rewrite(t, data, same, File{Path: "charts/evil.tgz", Data: []byte("x")}), "does not list"},
		{"an unsafe name", rewrite(t, data, same, File{Path: "../etc/passwd", Data: []byte("x")}), "unsafe file name"},
		{"no sums", rewrite(t, data, func(n string, b []byte) []byte {
			if n == SumsFile {
				return nil
			}
			return b
		}), "has no SHA256SUMS"},
		{"another format", rewrite(t, data, func(n string, b []byte) []byte {
			if n == ManifestFile {
				return bytes.Replace(b, []byte(Format), []byte("other/v9"), 1)
			}
			return b
		}), "bundle.json does not match its checksum"},
		{"a second gzip member appended", append(append([]byte(nil), data...), gzipped(t, []byte("evil"))...), "data appended after its end"},
		{"bytes appended", append(append([]byte(nil), data...), "trailing"...), "data appended after its end"},
		{"data after the tar's end", gzipped(t, append(gunzipped(t, data), "evil"...)), "data after the end of its archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read("b.tar.gz", bytes.NewReader(tt.data), nil)
			var be *Error
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a bundle error containing %q", err, tt.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("err has several lines: %q", err)
			}
		})
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteRefusesSecretsAndBadNames(t *testing.T) {
	m, files := sample(t)
	const id = "0123456789abcdef0123456789"
	files[1].Data = []byte("installationId: " + id)
	_, err := Write(io.Discard, m, files, []string{id, ""}, nil)
	if err == nil || strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), files[1].Path) {
		t.Fatalf("err = %v, want a refusal naming the file and not the secret", err)
	}
	for _, bad := range []string{"/abs", "../up", "a/../../b", "a\\b", ""} {
		if _, err := Write(io.Discard, &Manifest{}, []File{{Path: bad}}, nil, nil); err == nil {
			t.Errorf("Write accepted the path %q", bad)
		}
	}
}

func TestRequest(t *testing.T) {
	base := manifest.MustLoad()
	m, _ := sample(t)
	learned := m.Releases[0]
	learned.Release.Name = "v7.3.9"
	m.Releases = append(m.Releases, learned)
	res, err := base.ResolveRelease(m.Request(manifest.Request{}, "b.tar.gz"))
	if err != nil || res.Release.Name != m.To || !strings.Contains(res.Note, "target of bundle b.tar.gz") {
		t.Fatalf("resolved %q (%q), %v: want the bundle's target %s", res.Release.Name, res.Note, err, m.To)
	}
	got := res.Matrix
	if len(got.Releases) != len(base.Releases)+1 {
		t.Fatalf("%d releases, want %d", len(got.Releases), len(base.Releases)+1)
	}
	r, ok := got.Get("v7.3.9")
	if !ok || r.Source != "bundle b.tar.gz" {
		t.Errorf("v7.3.9 = %+v, %v", r, ok)
	}
	if emb, _ := got.Get("v7.3.1"); emb.Source != "matrix" {
		t.Errorf("the embedded v7.3.1 was replaced: %q", emb.Source)
	}
	if _, ok := base.Get("v7.3.9"); ok {
		t.Error("the request changed its base")
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
