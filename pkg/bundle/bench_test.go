package bundle

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"testing"
	"time"
)

// benchFiles are n incompressible files of size bytes (charts are gzip archives already).
func benchFiles(b *testing.B, n, size int) []File {
	b.Helper()
	files := make([]File, n)
	for i := range files {
		data := make([]byte, size)
		if _, err := rand.Read(data); err != nil {
			b.Fatal(err)
		}
		files[i] = File{Path: fmt.Sprintf("charts/c%d-1.0.0.tgz", i), Data: data}
	}
	return files
}

// BenchmarkWrite and BenchmarkReadVerify: a bundle of 8 charts of 1 MiB and 40 files of 64 KiB
// (a two-hop path with admin manifests, larger than the fixture's), written and verified in memory.
func BenchmarkWrite(b *testing.B) {
	files := append(benchFiles(b, 8, 1<<20), benchFiles(b, 40, 64<<10)...)
	for i := range files[8:] {
		files[8+i].Path = fmt.Sprintf("admin/v7.3.1/m%d.yaml", i)
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.Data))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		if _, err := Write(io.Discard, &Manifest{Created: time.Unix(0, 0)}, files, []string{"0123456789abcdef01234567"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadVerify(b *testing.B) {
	files := append(benchFiles(b, 8, 1<<20), benchFiles(b, 40, 64<<10)...)
	for i := range files[8:] {
		files[8+i].Path = fmt.Sprintf("admin/v7.3.1/m%d.yaml", i)
	}
	var buf bytes.Buffer
	if _, err := Write(&buf, &Manifest{Created: time.Unix(0, 0)}, files, nil, nil); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := Read("bench", bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}
