package manifest

import (
	"regexp"
	"strings"
	"testing"
)

func TestAdminStepsPerHop(t *testing.T) {
	m := MustLoad()
	get := func(n string) *Release {
		r, ok := m.Get(n)
		if !ok {
			t.Fatalf("%s is not in the matrix", n)
		}
		return &r
	}
	for _, tt := range []struct {
		from, to string
		want     string
		inferred bool
	}{
		{"", "v7.3.1", "priorityclasses,storageclasses", false},
		{"v7.2.2c", "v7.3.1", "crd-strimzi,crd-psmdb,priorityclasses,storageclasses", false},
		{"v7.3.1", "v7.3.6", "", false},
		{"v7.3.6", "v8.0.0", "crd-strimzi,crd-psmdb,storageclasses", true},
		{"", "v8.0.0", "priorityclasses,storageclasses", false},
		{"v7.1.3a", "v7.2.2c", "", false},
	} {
		h := Hop{To: *get(tt.to)}
		if tt.from != "" {
			h.From = get(tt.from)
		}
		var ids []string
		for _, s := range AdminSteps(h) {
			ids = append(ids, s.ID)
			if s.Inferred != tt.inferred {
				t.Errorf("%s → %s: step %s inferred=%v, want %v", tt.from, tt.to, s.ID, s.Inferred, tt.inferred)
			}
			// Only the keys of our commands and flags stay, for the command to spell.
			if fix := s.FixAt("ns1", h.To); strings.Contains(regexp.MustCompile(`\{(cmd|flag):[a-z-]+\}`).ReplaceAllString(fix, ""), "{") {
				t.Errorf("%s → %s: step %s fix keeps a placeholder: %s", tt.from, tt.to, s.ID, fix)
			}
		}
		if got := strings.Join(ids, ","); got != tt.want {
			t.Errorf("%s → %s: steps %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestAdminCRDStepFiles(t *testing.T) {
	m := MustLoad()
	from, _ := m.Get("v7.3.6")
	to, _ := m.Get("v8.0.0")
	for _, s := range AdminSteps(Hop{From: &from, To: to}) {
		if s.ID != "crd-psmdb" {
			continue
		}
		if s.Target() != "1.17.0" || s.From != "1.13.0" {
			t.Fatalf("crd-psmdb: from %s target %s, want 1.13.0 → 1.17.0", s.From, s.Target())
		}
		want := "manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml"
		if s.Files[0] != want || len(s.Files) != 9 {
			t.Fatalf("crd-psmdb files %v: want %s first, then 4 CRD and 4 RBAC manifests", s.Files, want)
		}
		return
	}
	t.Fatal("no crd-psmdb step on the 8.0 hop")
}

// The vendor's upgrade from 1.0.x (v1.0.2, v1.0.3 = v7.1.0) to the 1.1 charts is a backup,
// reinstall and restore: a blocking step on that hop only, with no tag in its fix that does not exist.
func TestAdminStepsLegacy11(t *testing.T) {
	m := MustLoad()
	for _, tt := range []struct {
		from, to string
		blocks   bool
	}{
		{"v1.0.2", "v1.1.0", true},
		{"v1.0.3", "v1.1.0", true},
		{"v7.1.0", "v7.1.1", true},
		{"v1.0.2", "v7.1.3a", true},
		{"v1.1.0", "v7.1.1", false},
		{"v7.1.1", "v7.1.3a", false},
		{"", "v1.1.0", false},
	} {
		to, _ := m.Get(tt.to)
		h := Hop{To: to}
		if tt.from != "" {
			from, _ := m.Get(tt.from)
			h.From = &from
		}
		var blocks bool
		for _, s := range AdminSteps(h) {
			if s.Kind == AdminBlocking {
				blocks = true
				fix := s.FixAt("ns1", to)
				for _, want := range []string{"configs/legacy", "backup", "uninstall", "delete namespace ns1", "restore", "tag " + to.Name} {
					if !strings.Contains(fix, want) {
						t.Errorf("%s → %s: fix %q does not say %q", tt.from, tt.to, fix, want)
					}
				}
			}
		}
		if blocks != tt.blocks {
			t.Errorf("%s → %s: blocking step %v, want %v", tt.from, tt.to, blocks, tt.blocks)
		}
	}
}

// An untagged release's fix points at its commit, never at a tag that does not exist.
func TestAdminStepFixUntagged(t *testing.T) {
	m := MustLoad()
	from, _ := m.Get("v7.2.2c")
	to, _ := m.Get("v7.3.0")
	for _, s := range AdminSteps(Hop{From: &from, To: to}) {
		fix := s.FixAt("ns1", to)
		if strings.Contains(fix, "tag v7.3.0") {
			t.Errorf("step %s: %q points at a tag that does not exist", s.ID, fix)
		}
		if s.ID == "crd-strimzi" && !strings.Contains(fix, "commit f6efc6fb2b90") {
			t.Errorf("step %s: %q does not name the commit", s.ID, fix)
		}
	}
}
