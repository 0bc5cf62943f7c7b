package catalog

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

const (
	versions736 = "THINGPARK_DATA_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_DATA_VERSION=1.6.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_ENTERPRISE_VERSION=1.7.6\n"
	versions800 = "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.2\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.0\n"
	versions801 = "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.3\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.4\n"
	versions810 = "THINGPARK_DATA_CONTROLLERS_VERSION=2.3.0\nTHINGPARK_DATA_VERSION=2.3.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.3.0\nTHINGPARK_ENTERPRISE_VERSION=2.1.0-rc.1\n"
	// versions731Other differs from the embedded v7.3.1.
	versions731Other = "THINGPARK_DATA_CONTROLLERS_VERSION=1.2.4\nTHINGPARK_DATA_VERSION=1.3.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.2.4\nTHINGPARK_ENTERPRISE_VERSION=1.4.9\n"
)

func fakeRepo(t *testing.T, tags, branches []configrepo.Ref) (Config, *configrepo.Repo) {
	t.Helper()
	repo := configrepo.New(tags, branches)
	srv := httptest.NewServer(repo)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	return Config{APIBase: srv.URL + "/api", RawBase: srv.URL + "/raw", Client: srv.Client(), Now: func() time.Time { return now }}, repo
}

func TestFetchAndMerge(t *testing.T) {
	cfg, _ := fakeRepo(t,
		[]configrepo.Ref{
			{Name: "v7.3.6", Versions: versions736},
			{Name: "v7.3.4c", Versions: versions736}, // an alias of v7.3.6 in the matrix
			{Name: "v8.0.1", Versions: versions801},  // unknown to the matrix
			{Name: "v7.3.1", Versions: versions731Other},
			{Name: "v7.3.5", Versions: "THINGPARK_DATA_VERSION=oops\n"},
			{Name: "not-a-release", Versions: versions736},
		},
		[]configrepo.Ref{{Name: "main", Versions: versions810}})
	cat, err := Fetch(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range cat.Refs {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "v7.3.1,v7.3.4c,v7.3.6,v8.0.1,main" {
		t.Errorf("refs = %s", got)
	}
	if len(cat.Problems) != 1 || cat.Problems[0].Ref != "v7.3.5" || !strings.Contains(cat.Problems[0].Err, "THINGPARK_DATA_VERSION") {
		t.Errorf("problems = %+v", cat.Problems)
	}
	if cat.Source != cfg.APIBase || cat.FetchedAt.IsZero() {
		t.Errorf("source %q fetchedAt %v", cat.Source, cat.FetchedAt)
	}

	emb := manifest.MustLoad()
	m := Merge(emb, cat)
	if !slices.Equal(m.Learned, []string{"v8.0.1"}) {
		t.Errorf("learned = %v", m.Learned)
	}
	r, ok := m.Matrix.Get("v8.0.1")
	if !ok || !r.Tagged || r.Enterprise != "2.0.4" || !strings.HasPrefix(r.Source, SourceLearned) ||
		r.Kubernetes.Min != "1.26" || r.Kubernetes.Max != "1.28" || r.Kubernetes.Source != "inferred" || r.Commit == "" {
		t.Errorf("v8.0.1 = %+v", r)
	}
	if l, _ := m.Matrix.LatestFix("8.0"); l.Name != "v8.0.1" {
		t.Errorf("latest 8.0 = %s", l.Name)
	}
	// The embedded v7.3.1 is kept; the difference is a conflict.
	if len(m.Conflicts) != 1 || m.Conflicts[0].Name != "v7.3.1" || !strings.Contains(m.Conflicts[0].String(), "1.4.9") {
		t.Errorf("conflicts = %+v", m.Conflicts)
	}
	if r, _ := m.Matrix.Get("v7.3.1"); r.Enterprise != "1.4.1" || r.Source != "matrix" {
		t.Errorf("embedded v7.3.1 overridden: %+v", r)
	}
	if len(m.Unreleased) != 1 || m.Unreleased[0].Ref != "main" || m.Unreleased[0].Release.Enterprise != "2.1.0-rc.1" {
		t.Errorf("unreleased = %+v", m.Unreleased)
	}
	// The embedded matrix itself is untouched.
	if _, ok := emb.Get("v8.0.1"); ok {
		t.Error("Merge changed the embedded matrix")
	}
	// The merged matrix stays sorted.
	for i := 1; i < len(m.Matrix.Releases); i++ {
		if !m.Matrix.Releases[i-1].Before(m.Matrix.Releases[i]) {
			t.Fatalf("not sorted at %s", m.Matrix.Releases[i].Name)
		}
	}
	// 7.3 → 8.0.1: through v7.3.6, then the learned release.
	from, _ := m.Matrix.Get("v7.3.4")
	hops, err := m.Matrix.Path(&from, r)
	if err != nil || len(hops) != 2 || hops[0].To.Name != "v7.3.6" || hops[1].To.Name != "v8.0.1" {
		t.Errorf("path = %+v, %v", hops, err)
	}
}

func TestBranchConfirmsKnownRelease(t *testing.T) {
	cfg, _ := fakeRepo(t, []configrepo.Ref{{Name: "v7.3.6", Versions: versions736}}, []configrepo.Ref{{Name: "main", Versions: versions800}})
	cat, err := Fetch(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(manifest.MustLoad(), cat)
	if len(m.Learned) != 0 || len(m.Conflicts) != 0 || len(m.Unreleased) != 0 {
		t.Errorf("main at 8.0.0 should only confirm the matrix: %+v", m)
	}
}

func TestResolveOfflineAndCache(t *testing.T) {
	dir := t.TempDir()
	emb := manifest.MustLoad()

	// No cache, server down: a warning, the embedded matrix.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	res := Resolve(t.Context(), emb, Options{Refresh: true, CacheDir: dir, Config: Config{APIBase: downURL + "/api", RawBase: downURL + "/raw"}})
	if res.Refreshed || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "refreshing the TPE releases failed") {
		t.Errorf("offline: %+v", res)
	}
	if len(res.Matrix.Releases) != len(emb.Releases) {
		t.Errorf("offline matrix has %d releases, want the %d embedded", len(res.Matrix.Releases), len(emb.Releases))
	}

	// A refresh caches what it learned.
	cfg, _ := fakeRepo(t, []configrepo.Ref{{Name: "v8.0.1", Versions: versions801}}, []configrepo.Ref{{Name: "main", Versions: versions801}})
	res = Resolve(t.Context(), emb, Options{Refresh: true, CacheDir: dir, Config: cfg})
	if !res.Refreshed || len(res.Warnings) != 0 || !slices.Equal(res.Learned, []string{"v8.0.1"}) {
		t.Fatalf("refresh: %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, CacheFile)); err != nil {
		t.Fatal(err)
	}

	// Without --refresh, and with the network down, the cache still gives the learned release.
	for _, refresh := range []bool{false, true} {
		res = Resolve(t.Context(), emb, Options{Refresh: refresh, CacheDir: dir, Config: Config{APIBase: downURL + "/api"}})
		if _, ok := res.Matrix.Get("v8.0.1"); !ok || !res.Cached || res.FetchedAt.IsZero() {
			t.Errorf("refresh=%v: cached release missing: %+v", refresh, res)
		}
		if refresh && (len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "cached releases")) {
			t.Errorf("warnings = %v", res.Warnings)
		}
	}

	// A corrupt cache is a warning, not an error.
	if err := os.WriteFile(filepath.Join(dir, CacheFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = Resolve(t.Context(), emb, Options{CacheDir: dir})
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "ignoring the cached releases") || len(res.Matrix.Releases) != len(emb.Releases) {
		t.Errorf("corrupt cache: %+v", res)
	}
}

func TestFetchTagListFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "rate limited", http.StatusForbidden)
	}))
	defer srv.Close()
	_, err := Fetch(t.Context(), Config{APIBase: srv.URL, RawBase: srv.URL, Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("err = %v", err)
	}
}

// A release published on main without a tag (as 8.0.0 was) is learned, named from what the vendor
// publishes, and usable as a target; a release candidate on main stays unreleased.
func TestBranchReleaseIsLearned(t *testing.T) {
	const versions802 = "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.4\nTHINGPARK_DATA_VERSION=2.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.3\nTHINGPARK_ENTERPRISE_VERSION=2.0.2\n"
	tests := []struct {
		name       string
		main       configrepo.Ref
		appVersion string
		want       string
		how        string
	}{
		{"from the chart repository", configrepo.Ref{Name: "main", Versions: versions802, Message: "Merge branch 'r/8.0'"}, "8.0.2",
			"v8.0.2", "the chart repository: thingpark-enterprise 2.0.2 has appVersion 8.0.2"},
		{"from the release commit", configrepo.Ref{Name: "main", Versions: versions802, Message: "Release thingpark-enterprise 2.0.2\n\nnotes", Date: "2026-03-01T10:00:00Z"}, "",
			"v8.0.1", "the release commit"},
		{"a release candidate", configrepo.Ref{Name: "main", Versions: versions810, Message: "Release thingpark-enterprise 2.1.0-rc.1"}, "", "", ""},
		{"no release commit", configrepo.Ref{Name: "main", Versions: versions802, Message: "Update container-manifest.txt"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := fakeRepo(t, []configrepo.Ref{{Name: "v7.3.6", Versions: versions736}}, []configrepo.Ref{tt.main})
			cfg.AppVersion = func(chart, version string) string {
				if chart == manifest.ChartEnterprise && version == "2.0.2" {
					return tt.appVersion
				}
				return ""
			}
			cat, err := Fetch(t.Context(), cfg)
			if err != nil || len(cat.Problems) != 0 {
				t.Fatalf("fetch: %v %+v", err, cat)
			}
			m := Merge(manifest.MustLoad(), cat)
			if tt.want == "" {
				if len(m.Learned) != 0 || len(m.Unreleased) != 1 {
					t.Errorf("learned %v, unreleased %+v: want it unreleased", m.Learned, m.Unreleased)
				}
				return
			}
			if !slices.Equal(m.Learned, []string{tt.want}) || len(m.Named) != 1 || !strings.Contains(m.Named[0].How, tt.how) || len(m.Unreleased) != 0 {
				t.Fatalf("learned %v, named %+v, unreleased %+v", m.Learned, m.Named, m.Unreleased)
			}
			r, err := m.Matrix.Resolve(tt.want)
			if err != nil || r.Tagged || r.Ref != "main" || r.Commit != configrepo.Commit(tt.main) || r.ConfigRef() != r.Commit || r.Kubernetes.Min != "1.26" {
				t.Errorf("%s = %+v, %v", tt.want, r, err)
			}
			from, _ := m.Matrix.Get("v7.3.6")
			if hops, err := m.Matrix.Path(&from, r); err != nil || len(hops) != 1 || hops[0].To.Name != tt.want {
				t.Errorf("path v7.3.6 → %s = %v, %v", tt.want, hops, err)
			}
		})
	}
}
