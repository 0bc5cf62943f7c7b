package bundle

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileNamesThePathAskedFor(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.tgz")
	if err := os.WriteFile(existing, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nonexistent", "x.tgz")
	var ee *ExistsError
	if err := CheckTarget(existing, false); !errors.As(err, &ee) || ee.Path != existing {
		t.Errorf("an existing file: %v", err)
	}
	if err := CheckTarget(existing, true); err != nil {
		t.Errorf("an existing file, overwrite: %v", err)
	}
	for name, err := range map[string]error{
		"check": CheckTarget(missing, false),
		"write": WriteFile(missing, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err }),
	} {
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), ".tpe-bundle") {
			t.Errorf("%s in a missing directory: %v, want a FileError naming %s and no temporary file", name, err, missing)
		}
	}

	// a failed write leaves neither the file nor the temporary file; a good one the file alone
	out := filepath.Join(dir, "b.tgz")
	boom := errors.New("boom")
	if err := WriteFile(out, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if err := WriteFile(out, func(w io.Writer) error { _, err := io.WriteString(w, "bundle"); return err }); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "b.tgz old.tgz" {
		t.Errorf("directory holds %v", names)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
}
