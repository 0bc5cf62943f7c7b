package input

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(small, []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, Versions.Max+1), 0o600); err != nil {
		t.Fatal(err)
	}
	exact := filepath.Join(dir, "exact")
	if err := os.WriteFile(exact, make([]byte, Versions.Max), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		kind       Kind
		want       string // error substring; "" = no error
		size       int
	}{
		{"small file", small, Values, "", 5},
		{"at the cap", exact, Versions, "", int(Versions.Max)},
		{"over the cap, refused unread", big, Versions, "VERSIONS file " + big + " is larger than 64 KiB", 0},
		{"a device over the cap", "/dev/zero", Values, "values file /dev/zero is larger than 8 MiB", 0},
		{"an empty device", "/dev/null", PEM, "", 0},
		{"a directory", dir, Values, "is a directory", 0},
		{"missing", filepath.Join(dir, "nope"), Values, "no such file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			data, err := ReadFile(t.Context(), tt.kind, tt.path)
			if time.Since(start) > time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if tt.want == "" {
				if err != nil || len(data) != tt.size {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(data), err, tt.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	var tl *TooLargeError
	if _, err := ReadFile(t.Context(), Values, "/dev/zero"); !errors.As(err, &tl) {
		t.Fatalf("want a TooLargeError, got %v", err)
	}
}

// TestReadFileFIFOEndsWithContext: a FIFO nobody writes to (open blocks), and one whose writer
// never closes (read blocks), both end when the context does.
func TestReadFileFIFOEndsWithContext(t *testing.T) {
	for _, writer := range []bool{false, true} {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skipf("no FIFO: %v", err)
		}
		if writer {
			go func() {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err == nil {
					_, _ = w.Write([]byte("a: 1\n"))
					t.Cleanup(func() { w.Close() })
				}
			}()
		}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		_, err := ReadFile(ctx, Values, fifo)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("writer=%v: want context.Canceled, got %v", writer, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("writer=%v: took %s", writer, took)
		}
	}
}

func TestReadStdinEndsWithContext(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := Read(ctx, StatusDump, r, Stdin); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	data, err := Read(t.Context(), PEM, strings.NewReader(strings.Repeat("x", int(PEM.Max)+1)), Stdin)
	if err == nil || err.Error() != "the PEM file on standard input is larger than 1 MiB" || data != nil {
		t.Fatalf("got %d bytes, %v", len(data), err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{16 << 20: "16 MiB", 512 << 10: "512 KiB", 100: "100 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
