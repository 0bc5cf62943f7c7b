//go:build e2e

package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
)

// TestReleasesRefresh runs the built helm-tpe against a fake configuration repository (tags and
// main, one tag unknown to the embedded matrix): `releases --refresh` lists the new release and
// caches it, a later `releases` (no network) still knows it, and with the repository down the
// command warns and lists the embedded releases.
func TestReleasesRefresh(t *testing.T) {
	repo := configrepo.New([]configrepo.Ref{
		{Name: "v7.3.6", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_DATA_VERSION=1.6.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_ENTERPRISE_VERSION=1.7.6\n"},
		{Name: "v8.0.1", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.3\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.4\n"},
	}, []configrepo.Ref{
		{Name: "main", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.2\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.0\n"},
	})
	srv := httptest.NewServer(repo)
	defer srv.Close()
	cache := t.TempDir() // not the run's shared Helm cache: other tests must not learn v8.0.1
	envFor := func(url string) []string {
		return []string{"HELM_TPE_CONFIG_REPO_API=" + url + "/api", "HELM_TPE_CONFIG_REPO_RAW=" + url + "/raw", "HELM_REPOSITORY_CACHE=" + cache}
	}
	line := func(out, name string) string {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == name {
				return l
			}
		}
		return ""
	}

	r := env.HelmTPE(t, "", envFor(srv.URL), "releases", "--refresh")
	if r.Code != 0 {
		t.Fatalf("releases --refresh: %s", r)
	}
	if l := line(r.Stdout, "v8.0.1"); !strings.Contains(l, "2.0.4") || !strings.Contains(l, "learned") {
		t.Errorf("v8.0.1 not listed as learned: %q\n%s", l, r.Stdout)
	}
	if !strings.Contains(r.Stderr, "1 release(s) learned from "+srv.URL+"/api (refreshed") {
		t.Errorf("stderr: %s", r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(cache, "tpe-releases.json")); err != nil {
		t.Errorf("no cache: %v", err)
	}
	var tagsListed bool
	for _, p := range repo.Requests() {
		tagsListed = tagsListed || p == "/api/tags"
	}
	if !tagsListed {
		t.Errorf("the tags were not listed: %v", repo.Requests())
	}

	// The repository goes down: a refresh warns, the cache and the embedded matrix still answer.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	r = env.HelmTPE(t, "", envFor(downURL), "releases", "--refresh")
	if r.Code != 0 || !strings.Contains(r.Stderr, "warning: refreshing the TPE releases failed") {
		t.Fatalf("offline refresh: %s", r)
	}
	for _, name := range []string{"v7.2.2c", "v7.3.6", "v8.0.0", "v8.0.1"} {
		if line(r.Stdout, name) == "" {
			t.Errorf("%s not listed offline:\n%s", name, r.Stdout)
		}
	}

	// With no cache at all and the repository down: the embedded releases only.
	r = env.HelmTPE(t, "", []string{"HELM_TPE_CONFIG_REPO_API=" + downURL + "/api", "HELM_TPE_CONFIG_REPO_RAW=" + downURL + "/raw",
		"HELM_REPOSITORY_CACHE=" + t.TempDir()}, "releases", "--refresh")
	if r.Code != 0 || !strings.Contains(r.Stderr, "warning: refreshing the TPE releases failed") || line(r.Stdout, "v8.0.0") == "" || line(r.Stdout, "v8.0.1") != "" {
		t.Errorf("offline without cache: %s", r)
	}
}
