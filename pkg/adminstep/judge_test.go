package adminstep

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynfake "k8s.io/client-go/dynamic/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// dirSource serves the fixture configuration repository (testdata/configrepo), at any ref.
type dirSource struct{ reads int }

func (d *dirSource) Read(_ context.Context, _ manifest.Release, p string) ([]byte, error) {
	d.reads++
	return os.ReadFile(filepath.Join("..", "..", "testdata", "configrepo", p))
}

func (d *dirSource) Describe() string { return "the fixture repository" }

// hop80 is the 7.3.6 → 8.0.0 hop and its steps.
func hop80(t *testing.T) ([]manifest.Hop, map[string]manifest.AdminStep) {
	t.Helper()
	m := manifest.MustLoad()
	from, _ := m.Get("v7.3.6")
	to, _ := m.Get("v8.0.0")
	path := []manifest.Hop{{From: &from, To: to}}
	steps := map[string]manifest.AdminStep{}
	for _, s := range manifest.AdminSteps(path[0]) {
		steps[s.ID] = s
	}
	return path, steps
}

// fixtureCRDs returns the CRD objects of a fixture manifest, Established when established.
func fixtureCRDs(t *testing.T, file string, established bool, only ...string) []runtime.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "configrepo", file))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := SplitYAML(file, data)
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	for _, d := range docs {
		if len(only) > 0 && !contains(only, d.Name) {
			continue
		}
		u := &unstructured.Unstructured{Object: d.Object}
		if established {
			_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Established", "status": "True"}}, "status", "conditions")
		}
		out = append(out, u)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func psmdb(v string) string {
	return "manifests/upgrade/percona-server-mongodb-operator-crds-" + v + ".yaml"
}
func strimzi(v string) string { return "manifests/upgrade/strimzi-crds-" + v + ".yaml" }

func TestJudgeCRDSteps(t *testing.T) {
	path, steps := hop80(t)
	tests := []struct {
		name   string
		step   string
		live   []runtime.Object
		status Status
		at     string
		next   string
		detail string
	}{
		{name: "percona at 1.13.0 is to do, next 1.14.0", step: "crd-psmdb", live: fixtureCRDs(t, psmdb("1.13.0"), true),
			status: Todo, at: "1.13.0", next: "1.14.0", detail: "Percona CRDs match 1.13.0; next: 1.14.0"},
		{name: "percona at 1.15.0", step: "crd-psmdb", live: fixtureCRDs(t, psmdb("1.15.0"), true), status: Todo, at: "1.15.0", next: "1.16.1"},
		{name: "percona after all four is done", step: "crd-psmdb", live: fixtureCRDs(t, psmdb("1.17.0"), true), status: Done, at: "1.17.0",
			detail: "Percona CRDs match 1.17.0"},
		{name: "percona at 1.17.0 not established is not done", step: "crd-psmdb", live: fixtureCRDs(t, psmdb("1.17.0"), false), status: Todo, at: "1.17.0", next: "1.17.0"},
		{name: "percona half way to 1.17.0 redoes 1.17.0", step: "crd-psmdb",
			live:   append(fixtureCRDs(t, psmdb("1.17.0"), true, "perconaservermongodbs.psmdb.percona.com"), fixtureCRDs(t, psmdb("1.16.1"), true, "perconaservermongodbbackups.psmdb.percona.com", "perconaservermongodbrestores.psmdb.percona.com")...),
			status: Todo, at: "1.16.1", next: "1.17.0", detail: "half way from 1.16.1 to 1.17.0"},
		{name: "percona none installed", step: "crd-psmdb", status: Todo, next: "1.14.0"},
		{name: "strimzi 0.42 is not 0.44", step: "crd-strimzi", live: fixtureCRDs(t, strimzi("0.42.0"), true), status: Unknown, detail: "match none of the versions 0.32.0, 0.44.0"},
		{name: "strimzi at 0.32.0", step: "crd-strimzi", live: fixtureCRDs(t, strimzi("0.32.0"), true), status: Todo, at: "0.32.0", next: "0.44.0"},
		{name: "strimzi at 0.44.0", step: "crd-strimzi", live: fixtureCRDs(t, strimzi("0.44.0"), true), status: Done, at: "0.44.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dyn := dynfake.NewSimpleDynamicClient(runtime.NewScheme(), tt.live...)
			v, _ := JudgeStep(t.Context(), dyn, &dirSource{}, path, 0, steps[tt.step])
			if v.Status != tt.status || v.At != tt.at || v.Next != tt.next || !strings.Contains(v.Detail, tt.detail) {
				t.Fatalf("got %+v, want status %s at %q next %q detail ~%q", v, tt.status, tt.at, tt.next, tt.detail)
			}
		})
	}
}

// TestJudgeNeverDoneWithoutSource: nothing to compare with is "cannot be verified".
func TestJudgeNeverDoneWithoutSource(t *testing.T) {
	path, steps := hop80(t)
	dyn := dynfake.NewSimpleDynamicClient(runtime.NewScheme(), fixtureCRDs(t, psmdb("1.17.0"), true)...)
	for _, src := range []Source{nil, failing{}} {
		v, _ := JudgeStep(t.Context(), dyn, src, path, 0, steps["crd-psmdb"])
		if v.Status != Unknown {
			t.Fatalf("source %v: %+v, want unknown", src, v)
		}
	}
}

type failing struct{}

func (failing) Read(context.Context, manifest.Release, string) ([]byte, error) {
	return nil, os.ErrNotExist
}
func (failing) Describe() string { return "nowhere" }

// TestJudgeIgnoresTheHint: the same controller-gen annotation on two versions proves nothing.
func TestJudgeIgnoresTheHint(t *testing.T) {
	a, err := ParseCRDs("a", mustRead(t, psmdb("1.14.0")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseCRDs("b", mustRead(t, psmdb("1.15.0")))
	if err != nil {
		t.Fatal(err)
	}
	if a[2].Hint != b[2].Hint {
		t.Fatalf("fixtures: 1.14.0 and 1.15.0 share the hint %s", a[2].Hint)
	}
	if a[2].Same(b[2]) {
		t.Fatal("1.14.0 and 1.15.0 perconaservermongodbs judged the same")
	}
	if !a[2].Same(a[2]) {
		t.Fatal("a CRD differs from itself")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "configrepo", p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
