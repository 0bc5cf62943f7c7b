package charts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

func TestDirLoadChart(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, version string) *chart.Chart {
		return &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version}}
	}
	// packed, as `helm pull` saves it
	if _, err := chartutil.Save(mk("thingpark-enterprise", "1.4.1"), dir); err != nil {
		t.Fatal(err)
	}
	// unpacked, as `helm pull --untar` leaves it, in a directory whose name says nothing of the version
	if err := chartutil.SaveDir(mk("thingpark-data", "1.3.5"), dir); err != nil {
		t.Fatal(err)
	}
	// noise: a file and a directory that are no charts
	_ = os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644)
	_ = os.MkdirAll(filepath.Join(dir, "notes"), 0o755)
	tests := []struct {
		name, chart, version string
		wantErr              string
	}{
		{"packed", "thingpark-enterprise", "1.4.1", ""},
		{"unpacked", "thingpark-data", "1.3.5", ""},
		{"another version", "thingpark-enterprise", "1.2.25", "it holds thingpark-data-1.3.5, thingpark-enterprise-1.4.1"},
		{"absent", "thingpark-data-controllers", "1.2.4", "is not in " + dir},
	}
	d := &Dir{Path: dir}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := d.LoadChart(tt.chart, tt.version)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Metadata.Name != tt.chart || c.Metadata.Version != tt.version {
				t.Errorf("loaded %s %s", c.Metadata.Name, c.Metadata.Version)
			}
		})
	}
	if _, err := (&Dir{Path: filepath.Join(dir, "missing")}).LoadChart("x", "1.0.0"); err == nil {
		t.Error("a missing directory: no error")
	}
}
