package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRelease(t *testing.T) {
	m := MustLoad()
	known731 := FormatVersions(func() Release { r, _ := m.Get("v7.3.1"); return r }())
	custom := "THINGPARK_DATA_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_DATA_VERSION=9.0.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_ENTERPRISE_VERSION=9.0.0\n"
	tests := []struct {
		name     string
		dir      string // directory holding VERSIONS, under a temporary directory
		data     string
		given    string
		wantName string
		wantKube string
		wantErr  string
	}{
		{"named by the caller", "x", custom, "v7.4.0", "v7.4.0", "", ""},
		{"the caller's name without v", "x", known731, "7.3.1", "v7.3.1", "1.24", ""},
		{"named by its directory", "v7.3.0", known731, "", "v7.3.0", "1.24", ""},
		{"a directory that is not a tag: the charts match", "downloads", known731, "", "v7.3.1", "1.24", ""},
		{"nothing names it: custom", "downloads", custom, "", "", "", ""},
		{"an invalid name", "x", custom, "v.", "", "", `invalid TPE release name "v."`},
		{"an invalid file", "x", "THINGPARK_DATA_VERSION=1\n", "", "", "", "VERSIONS:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tt.dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "VERSIONS")
			r, err := m.ReadRelease(path, []byte(tt.data), tt.given)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.wantName || r.Kubernetes.Min != tt.wantKube || r.Source != path {
				t.Errorf("release %q (kubernetes %q, source %q), want %q (%q, %q)", r.Name, r.Kubernetes.Min, r.Source, tt.wantName, tt.wantKube, path)
			}
		})
	}
}
