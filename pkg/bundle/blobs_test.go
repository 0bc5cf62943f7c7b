package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// layoutBundle writes a bundle holding one image: a manifest (a file) and a 6 MiB layer (a
// streamed blob).
func layoutBundle(t *testing.T, layer []byte) ([]byte, string) {
	t.Helper()
	sum := sha256.Sum256(layer)
	ld := "sha256:" + hex.EncodeToString(sum[:])
	man, _ := json.Marshal(ociManifest{MediaType: "application/vnd.oci.image.manifest.v1+json", Layers: []ociDescriptor{{Digest: ld, Size: int64(len(layer))}}})
	ms := sha256.Sum256(man)
	md := "sha256:" + hex.EncodeToString(ms[:])
	m := &Manifest{Created: time.Unix(0, 0), To: "v1", Layout: &Layout{Images: []Image{{Ref: "r.example/app:1", Digest: md}}}}
	files := []File{{Path: LayoutDir + "/index.json", Data: []byte("{}")}, {Path: BlobPath(md), Data: man}}
	blobs := []Blob{{Digest: ld, Size: int64(len(layer)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil }}}
	var buf bytes.Buffer
	if _, err := WriteBlobs(&buf, m, files, blobs, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ld
}

func TestBlobsStreamed(t *testing.T) {
	layer := bytes.Repeat([]byte("layer-bytes "), 6<<20/12)
	data, ld := layoutBundle(t, layer)
	var got bytes.Buffer
	b, err := ReadWith("b", bytes.NewReader(data), ReadOptions{Blob: func(d string, size int64, r io.Reader) error {
		if d != ld || size != int64(len(layer)) {
			t.Errorf("blob %s %d, want %s %d", d, size, ld, len(layer))
		}
		_, err := io.Copy(&got, r)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), layer) {
		t.Error("the streamed blob differs from the layer")
	}
	if _, kept := b.File(BlobPath(ld)); kept {
		t.Error("the layer was kept in memory")
	}
	var listed bool
	for _, e := range b.Files() {
		if e.Path == BlobPath(ld) && e.Size == int64(len(layer)) {
			listed = true
		}
	}
	if !listed {
		t.Errorf("Files() lacks the layer with its size: %v", b.Files())
	}
	if n := len(b.ImageBlobs()["r.example/app:1"]); n != 2 {
		t.Errorf("ImageBlobs: %d blobs, want the manifest and the layer", n)
	}
}

func TestBlobWriteChecksDigest(t *testing.T) {
	m := &Manifest{Created: time.Unix(0, 0), To: "v1"}
	d := "sha256:" + strings.Repeat("a", 64)
	_, err := WriteBlobs(io.Discard, m, nil, []Blob{{Digest: d, Size: 3, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("abc")), nil }}}, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "its content has digest") {
		t.Fatalf("a blob whose content is not its digest: %v", err)
	}
	_, err = WriteBlobs(io.Discard, m, nil, []Blob{{Digest: d, Size: MaxBlob + 1}}, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "above the bound") {
		t.Fatalf("a blob above the bound: %v", err)
	}
}
