package airgap

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/getter"

	"github.com/thingpark-tools/kubectl-tpe/internal/chartrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

const testID = "00000000000000000000000042"

// servers starts the fixture chart repository (basic auth with testID) and a configuration
// repository that publishes container-manifest.txt for v7.3.1 only and the 7.3 hop's CRD manifests.
func servers(t *testing.T) (*charts.Repo, catalog.Config, *configrepo.Repo) {
	t.Helper()
	td := filepath.Join("..", "..", "testdata")
	h, err := chartrepo.New(chartrepo.Config{ChartsDir: filepath.Join(td, "charts"), ReleasesDir: filepath.Join(td, "releases"), InstallationID: testID})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/charts/", h)
	cr := httptest.NewServer(mux)
	t.Cleanup(cr.Close)
	repo := &charts.Repo{Name: "test", URL: cr.URL + "/charts", ID: testID, RepoCache: t.TempDir(), RepoConfig: filepath.Join(t.TempDir(), "repositories.yaml"),
		Getters: getter.Providers{{Schemes: []string{"http", "https"}, New: getter.NewHTTPGetter}}}
	cfgRepo := configrepo.New([]configrepo.Ref{
		{Name: "v7.2.2c", Versions: "x"},
		{Name: "v7.3.1", Versions: "x", Files: map[string]string{
			"container-manifest.txt":                                             "repository.thingpark.com/thingpark-kubernetes/twa:7\n",
			"manifests/upgrade/strimzi-crds-0.32.0.yaml":                         "kind: CustomResourceDefinition\n",
			"manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml": "kind: CustomResourceDefinition\n",
			"manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml": "kind: Role\n",
			"examples/priority-class/default.yaml":                               "kind: PriorityClass\n",
			"examples/customization/values-data-stack.yaml":                      "global: {}\n",
		}},
	}, nil)
	cs := httptest.NewServer(cfgRepo)
	t.Cleanup(cs.Close)
	return repo, catalog.Config{APIBase: cs.URL + "/api", RawBase: cs.URL + "/raw", Client: cs.Client()}, cfgRepo
}

func TestCreateTwoHops(t *testing.T) {
	repo, cfg, _ := servers(t)
	m := manifest.MustLoad()
	from, _ := m.Get("v7.1.3a")
	to, _ := m.Get("v7.3.1")
	var rendered []string
	images := func(_ context.Context, rel manifest.Release, src charts.Source, vals map[string]any) ([]string, error) {
		// The charts given to render are the downloaded ones.
		for _, c := range rel.Charts() {
			ch, err := src.LoadChart(c.Chart, c.Version)
			if err != nil {
				return nil, err
			}
			if ch.Metadata.Version != c.Version {
				t.Errorf("rendering %s: chart version %s", c.Chart, ch.Metadata.Version)
			}
		}
		rendered = append(rendered, rel.Name)
		return []string{"img/" + rel.Name}, nil
	}
	var progress []string
	var buf bytes.Buffer
	res, err := Create(t.Context(), Deps{Charts: repo, ChartRepository: repo.URL, Config: cfg, Images: images,
		Progress: func(f string, a ...any) { progress = append(progress, f) }},
		Config{Matrix: m, From: &from, To: to, Values: map[string]any{"global": map[string]any{"installationId": testID}}, Redactor: redact.New(testID)}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rendered, ",") != "v7.2.2c,v7.3.1" {
		t.Errorf("rendered %v, want the two hops' targets", rendered)
	}
	b, err := bundle.Read("b", bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest != res.Digest || b.Size != res.Size {
		t.Errorf("digest %s size %d, Create said %s %d", b.Digest, b.Size, res.Digest, res.Size)
	}
	bm := b.Manifest
	if bm.From != "v7.1.3a" || bm.To != "v7.3.1" || len(bm.Releases) != 2 {
		t.Fatalf("manifest = from %s to %s, %d releases", bm.From, bm.To, len(bm.Releases))
	}
	if l := b.Lacks(bm.Releases[0].Release, bm.Releases[1].Release); len(l) != 0 {
		t.Errorf("lacks %v", l)
	}
	if s := bm.Releases[1].Samples; len(s) != 1 || s[0] != "releases/v7.3.1/examples/customization/values-data-stack.yaml" || len(bm.Releases[0].Samples) != 0 {
		t.Errorf("samples = %v, %v; want the target's published one", bm.Releases[0].Samples, s)
	}
	if bm.Releases[1].VendorImages == "" || bm.Releases[0].VendorImages != "" {
		t.Errorf("vendor image lists = %q, %q; want only v7.3.1's", bm.Releases[0].VendorImages, bm.Releases[1].VendorImages)
	}
	var admin []string
	for _, a := range bm.Admin {
		admin = append(admin, a.Hop+" "+a.Source)
	}
	sort.Strings(admin)
	want := []string{
		"v7.3.1 examples/priority-class/default.yaml",
		"v7.3.1 manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml",
		"v7.3.1 manifests/upgrade/percona-server-mongodb-operator-rbac-1.13.0.yaml",
		"v7.3.1 manifests/upgrade/strimzi-crds-0.32.0.yaml",
	}
	if strings.Join(admin, "\n") != strings.Join(want, "\n") {
		t.Errorf("admin files:\n%s\nwant\n%s", strings.Join(admin, "\n"), strings.Join(want, "\n"))
	}
	var missing []string
	for _, ms := range bm.Missing {
		missing = append(missing, ms.What)
		if !strings.Contains(ms.Reason, "not published") {
			t.Errorf("missing %s: reason %q", ms.What, ms.Reason)
		}
	}
	joined := strings.Join(missing, "\n")
	for _, w := range []string{"container-manifest.txt of v7.2.2c", "values-default-priority-class.yaml", "storage-class-amazon.yaml"} {
		if !strings.Contains(joined, w) {
			t.Errorf("missing list lacks %q:\n%s", w, joined)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte(testID)) {
		t.Error("the bundle holds the installation ID")
	}
	for _, f := range b.Files() {
		data, _ := b.File(f.Path)
		if bytes.Contains(data, []byte(testID)) {
			t.Errorf("%s holds the installation ID", f.Path)
		}
	}
	if len(progress) < 10 {
		t.Errorf("%d progress lines, want one per chart and release at least", len(progress))
	}
}

func TestCreateFreshInstallAndErrors(t *testing.T) {
	repo, cfg, _ := servers(t)
	m := manifest.MustLoad()
	to, _ := m.Get("v7.3.1")
	var buf bytes.Buffer
	res, err := Create(t.Context(), Deps{Charts: repo, Config: cfg}, Config{Matrix: m, To: to}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Manifest.Releases) != 1 || res.Manifest.From != "" {
		t.Errorf("fresh install bundle: %d releases, from %q", len(res.Manifest.Releases), res.Manifest.From)
	}

	// A release the repository does not serve: an error naming the chart, without the ID.
	v736, _ := m.Get("v7.3.6")
	v736.Enterprise = "9.9.9"
	v736.Name = "v7.3.6"
	_, err = Create(t.Context(), Deps{Charts: repo, Config: cfg}, Config{Matrix: m, To: v736, Redactor: redact.New(testID)}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "thingpark-enterprise 9.9.9") || strings.Contains(err.Error(), testID) {
		t.Errorf("err = %v, want one naming the missing chart", err)
	}

	// A wrong installation ID: rejected, and the ID is not in the error.
	bad := *repo
	bad.ID = "11111111111111111111111111"
	_, err = Create(t.Context(), Deps{Charts: &bad, Config: cfg}, Config{Matrix: m, To: to, Redactor: redact.New(bad.ID)}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "rejected") || strings.Contains(err.Error(), bad.ID) {
		t.Errorf("err = %v, want the installation ID rejected, without it", err)
	}

	// Same release: nothing to bundle.
	_, err = Create(t.Context(), Deps{Charts: repo, Config: cfg}, Config{Matrix: m, From: &to, To: to}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "nothing to bundle") {
		t.Errorf("err = %v", err)
	}
}

func TestCreateConfigRepositoryDown(t *testing.T) {
	repo, _, _ := servers(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	var hits int
	counting := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		hits++
		return http.DefaultTransport.RoundTrip(r)
	})}
	m := manifest.MustLoad()
	from, _ := m.Get("v7.2.2c")
	to, _ := m.Get("v7.3.1")
	var out bytes.Buffer
	_, err := Create(t.Context(), Deps{Charts: repo, Config: catalog.Config{RawBase: down.URL + "/raw", Client: counting}},
		Config{Matrix: m, From: &from, To: to}, &out)
	// It was a bundle without the vendor's files and a summary claiming the vendor publishes none.
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), down.URL+"/raw cannot be read") || errors.Is(err, catalog.ErrNotPublished) {
		t.Fatalf("err = %v, want a ConfigError naming the repository", err)
	}
	if hits != 1 || out.Len() != 0 {
		t.Errorf("%d requests to a failing configuration repository (want 1), %d bytes written (want none)", hits, out.Len())
	}
	// Unreachable (connection refused) is the same error.
	_, err = Create(t.Context(), Deps{Charts: repo, Config: catalog.Config{RawBase: "http://127.0.0.1:1/raw"}},
		Config{Matrix: m, From: &from, To: to}, &bytes.Buffer{})
	if !errors.As(err, &ce) {
		t.Errorf("unreachable: err = %v, want a ConfigError", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
