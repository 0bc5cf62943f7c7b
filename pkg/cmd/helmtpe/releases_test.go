package helmtpe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
)

// fakeConfigRepo serves a configuration repository whose tags hold v7.3.6 and a v8.0.1 the
// embedded matrix does not know, and whose main branch holds 8.0.0.
func fakeConfigRepo(t *testing.T) string {
	t.Helper()
	repo := configrepo.New([]configrepo.Ref{
		{Name: "v7.3.6", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_DATA_VERSION=1.6.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.5.0\nTHINGPARK_ENTERPRISE_VERSION=1.7.6\n"},
		{Name: "v8.0.1", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.3\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.4\n"},
	}, []configrepo.Ref{
		{Name: "main", Versions: "THINGPARK_DATA_CONTROLLERS_VERSION=2.2.1\nTHINGPARK_DATA_VERSION=2.2.2\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=2.2.0\nTHINGPARK_ENTERPRISE_VERSION=2.0.0\n"},
	})
	srv := httptest.NewServer(repo)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestReleasesRefresh(t *testing.T) {
	url := fakeConfigRepo(t)
	t.Setenv(catalog.EnvAPIBase, url+"/api")
	t.Setenv(catalog.EnvRawBase, url+"/raw")

	out, errOut, err := run(t, nil, "releases", "--refresh")
	if err != nil {
		t.Fatalf("releases --refresh: %v\n%s", err, errOut)
	}
	line := lineOf(out, "v8.0.1")
	for _, want := range []string{"2.2.3", "2.0.4", "1.26–1.28 (inferred)", "learned", "latest 8.0"} {
		if !strings.Contains(line, want) {
			t.Errorf("v8.0.1 line %q lacks %q\n%s", line, want, out)
		}
	}
	if l := lineOf(out, "v8.0.0"); !strings.Contains(l, "untagged (main)") || !strings.Contains(l, "1.26–1.28") {
		t.Errorf("v8.0.0 line %q", l)
	}
	if !strings.Contains(errOut, "1 release(s) learned from "+url+"/api (refreshed") {
		t.Errorf("stderr: %s", errOut)
	}

	out, _, err = run(t, nil, "releases", "--refresh", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Releases []struct{ Name, Source string } `json:"releases"`
		Catalog  struct {
			Learned   []string `json:"learned"`
			Refreshed bool     `json:"refreshed"`
		} `json:"catalog"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Catalog.Refreshed || strings.Join(v.Catalog.Learned, ",") != "v8.0.1" || v.Releases[len(v.Releases)-1].Name != "v8.0.1" {
		t.Errorf("json: %+v", v)
	}
}

func TestReleasesRefreshOffline(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // the repository is down
	t.Setenv(catalog.EnvAPIBase, url+"/api")
	t.Setenv(catalog.EnvRawBase, url+"/raw")

	out, errOut, err := run(t, nil, "releases", "--refresh")
	if err != nil {
		t.Fatalf("a failed refresh must not be an error: %v", err)
	}
	if !strings.Contains(errOut, "warning: refreshing the TPE releases failed") {
		t.Errorf("no warning: %q", errOut)
	}
	for _, want := range []string{"v7.3.6", "v8.0.0", "v7.2.2c"} {
		if lineOf(out, want) == "" {
			t.Errorf("embedded release %s not listed:\n%s", want, out)
		}
	}
	if strings.Contains(out, "v8.0.1") {
		t.Errorf("a release appeared offline:\n%s", out)
	}
}

func lineOf(out, release string) string {
	for l := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == release {
			return l
		}
	}
	return ""
}
