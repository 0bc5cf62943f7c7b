package manifest

import (
	"errors"
	"strings"
	"testing"
)

func hopNames(hops []Hop) string {
	var parts []string
	for i, h := range hops {
		if i == 0 {
			if h.From == nil {
				parts = append(parts, "∅")
			} else {
				parts = append(parts, h.From.Name)
			}
		}
		parts = append(parts, h.To.Name+"("+h.Kind+")")
	}
	return strings.Join(parts, " → ")
}

func TestPath(t *testing.T) {
	m := MustLoad()
	tests := []struct {
		from, to string
		want     string
		wantErr  string
	}{
		{"", "v7.2.2c", "∅ → v7.2.2c(install)", ""},
		{"v7.1.2", "v7.3.1", "v7.1.2 → v7.1.3a(hotfix/maintenance) → v7.2.2c(major) → v7.3.1(major)", ""},
		{"v7.1.3a", "v7.2.2c", "v7.1.3a → v7.2.2c(major)", ""},
		{"v7.2.2c", "v7.3.1", "v7.2.2c → v7.3.1(major)", ""},
		{"v7.2.0", "v7.3.1", "v7.2.0 → v7.2.2c(hotfix/maintenance) → v7.3.1(major)", ""},
		{"v7.2.2", "v7.2.2c", "v7.2.2 → v7.2.2c(hotfix/maintenance)", ""},
		{"v7.3.1", "v7.3.6", "v7.3.1 → v7.3.6(hotfix/maintenance)", ""},
		{"v7.1.0", "v7.3.6", "v7.1.0 → v7.1.3a(hotfix/maintenance) → v7.2.2c(major) → v7.3.6(major)", ""},
		{"v7.3.6", "v8.0.0", "v7.3.6 → v8.0.0(major)", ""},
		{"v7.3.4", "v8.0.0", "v7.3.4 → v7.3.6(hotfix/maintenance) → v8.0.0(major)", ""},
		{"v7.3.4c", "v8.0.0", "v7.3.6 → v8.0.0(major)", ""}, // v7.3.4c is v7.3.6
		{"v7.2.2c", "v8.0.0", "v7.2.2c → v7.3.6(major) → v8.0.0(major)", ""},
		{"v7.1.3a", "v8.0.0", "v7.1.3a → v7.2.2c(major) → v7.3.6(major) → v8.0.0(major)", ""},
		{"v8.0.0", "v7.3.6", "", "rollback"},
		{"v7.3.1", "v7.3.1", "", ""},
		{"v7.3.0", "v7.3.1", "", ""}, // same charts: nothing to do
		{"v7.3.1", "v7.2.2c", "", "rollback"},
		{"v7.2.2c", "v7.2.2", "", "rollback"},
		// v1.1.0 is named by its chart version: it comes after v7.1.0 (v1.0.3), in the 7.1 line.
		{"v1.0.2", "v1.1.0", "v1.0.2 → v1.1.0(major)", ""},
		{"v7.1.0", "v1.1.0", "v7.1.0 → v1.1.0(hotfix/maintenance)", ""},
		{"v1.0.3", "v1.1.0", "v7.1.0 → v1.1.0(hotfix/maintenance)", ""},
		{"v1.1.0", "v7.1.1", "v1.1.0 → v7.1.1(hotfix/maintenance)", ""},
		{"v1.0.2", "v7.1.1", "v1.0.2 → v7.1.1(major)", ""},
		{"v7.1.1", "v1.1.0", "", "rollback"},
	}
	for _, tt := range tests {
		t.Run(tt.from+"→"+tt.to, func(t *testing.T) {
			var from *Release
			if tt.from != "" {
				r, err := m.Resolve(tt.from)
				if err != nil {
					t.Fatal(err)
				}
				from = &r
			}
			to, err := m.Resolve(tt.to)
			if err != nil {
				t.Fatal(err)
			}
			hops, err := m.Path(from, to)
			if tt.wantErr != "" {
				var pe *PathError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a PathError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hopNames(hops); got != tt.want {
				t.Errorf("path = %q\n          want %q", got, tt.want)
			}
			// Every hop starts where the previous one ended, and a major hop starts from a latest fix.
			for i, h := range hops {
				if i > 0 && h.From.Name != hops[i-1].To.Name {
					t.Errorf("hop %d starts at %s, previous ended at %s", i, h.From.Name, hops[i-1].To.Name)
				}
				if h.Kind == HopMajor {
					latest, _ := m.LatestFix(h.From.Line())
					if h.From.Name != latest.Name {
						t.Errorf("major hop from %s, not from the latest fix %s", h.From.Name, latest.Name)
					}
				}
			}
		})
	}
}

func TestPathToManifestRelease(t *testing.T) {
	m := MustLoad()
	from, _ := m.Get("v7.3.4")
	// A release the matrix does not know, from a VERSIONS file: a newer 7.3 fix and the next line.
	next, err := ParseVersions("VERSIONS", []byte("THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.2\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	next.Name = "v8.0.0"
	hops, err := m.Path(&from, next)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hopNames(hops), "v7.3.4 → v7.3.6(hotfix/maintenance) → v8.0.0(major)"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}
