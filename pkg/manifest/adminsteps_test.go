package manifest

import (
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
			if strings.Contains(s.FixFor("ns1", tt.to), "{") {
				t.Errorf("%s → %s: step %s fix keeps a placeholder: %s", tt.from, tt.to, s.ID, s.FixFor("ns1", tt.to))
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
