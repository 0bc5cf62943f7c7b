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

// TestReleasesRefreshUntagged: a release published on main without a tag (as 8.0.0 was) is
// learned by `releases --refresh`, named from the release commit (or, when the chart repository's
// index is cached, its chart's appVersion), said how, and usable with --to; its files are read
// at its commit, which the plan's note names.
func TestReleasesRefreshUntagged(t *testing.T) {
	main := configrepo.Ref{Name: "main", Message: "Release thingpark-enterprise 2.0.2", Date: "2026-03-01T10:00:00Z",
		Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.4\nTHINGPARK_DATA_VERSION=2.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.3\nTHINGPARK_ENTERPRISE_VERSION=2.0.2\n"}
	repo := configrepo.New([]configrepo.Ref{
		{Name: "v7.3.6", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_DATA_VERSION=1.6.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_ENTERPRISE_VERSION=1.7.6\n"},
	}, []configrepo.Ref{main})
	srv := httptest.NewServer(repo)
	defer srv.Close()
	for _, tt := range []struct {
		name, index, want, how string
	}{
		{"release commit", "", "v8.0.1", "named from the release commit"},
		{"appVersion", "apiVersion: v1\nentries:\n  thingpark-enterprise:\n  - name: thingpark-enterprise\n    version: 2.0.2\n    appVersion: 8.0.2\n    urls: [thingpark-enterprise-2.0.2.tgz]\n",
			"v8.0.2", "named from the chart repository: thingpark-enterprise 2.0.2 has appVersion 8.0.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			if tt.index != "" {
				if err := os.WriteFile(filepath.Join(cache, "actility-index.yaml"), []byte(tt.index), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			extra := []string{"HELM_TPE_CONFIG_REPO_API=" + srv.URL + "/api", "HELM_TPE_CONFIG_REPO_RAW=" + srv.URL + "/raw", "HELM_REPOSITORY_CACHE=" + cache}
			r := env.HelmTPE(t, "", extra, "releases", "--refresh")
			if r.Code != 0 {
				t.Fatalf("releases --refresh: %s", r)
			}
			var row string
			for _, l := range strings.Split(r.Stdout, "\n") {
				if f := strings.Fields(l); len(f) > 0 && f[0] == tt.want {
					row = l
				}
			}
			if !strings.Contains(row, "2.0.2") || !strings.Contains(row, "untagged (main)") || !strings.Contains(row, "learned") {
				t.Errorf("%s not listed as an untagged learned release: %q\n%s", tt.want, row, r.Stdout)
			}
			if !strings.Contains(r.Stderr, tt.want+" is published on the configuration repository's branch without a tag: "+tt.how) || strings.Contains(r.Stderr, "has charts of no known release") {
				t.Errorf("stderr does not say how %s was named:\n%s", tt.want, r.Stderr)
			}
			// Usable with --to (from the cache, no refresh), its files read at its commit.
			r = env.HelmTPE(t, "", extra, "plan", "--from", "v7.3.6", "--to", strings.ToUpper(tt.want), "-o", "json")
			if r.Code == 1 {
				t.Fatalf("plan --to %s: %s", tt.want, r)
			}
			commit := configrepo.Commit(main)[:12]
			if !strings.Contains(r.Stdout, `"target": "`+tt.want+`"`) || !strings.Contains(r.Stdout, tt.want+" has no tag in the vendor's repository: its files are read at commit "+commit) {
				t.Errorf("plan --to %s: target or note missing:\n%s", tt.want, r.Stdout)
			}
		})
	}
}
