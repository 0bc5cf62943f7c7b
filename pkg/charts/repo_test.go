package charts

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	helmcli "helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

func TestRepoFetchIndex(t *testing.T) {
	const id = "installation-id-9876"
	index := "apiVersion: v1\nentries:\n" + func() string {
		var b strings.Builder
		r, _ := manifest.MustLoad().Resolve("v7.3.1")
		for _, c := range r.Charts() {
			fmt.Fprintf(&b, "  %s:\n  - name: %s\n    version: %s\n    apiVersion: v2\n    urls: [%s-%s.tgz]\n", c.Chart, c.Chart, c.Version, c.Chart, c.Version)
		}
		return b.String()
	}()
	mode := "ok"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		switch {
		case !ok || u != id || p != id:
			http.Error(w, "denied", http.StatusUnauthorized)
		case mode == "404":
			http.NotFound(w, r)
		case mode == "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case mode == "truncated":
			_, _ = io.WriteString(w, index[:len(index)/2]+"\n  - name: [")
		default:
			_, _ = io.WriteString(w, index)
		}
	}))
	defer srv.Close()
	getters := getter.All(helmcli.New())
	dir := t.TempDir()
	tests := []struct {
		name, mode, id, kind string
		target               string
	}{
		{"ok", "ok", id, "", "v7.3.1"},
		{"wrong ID", "ok", "wrong-id-000000", "rejected", "v7.3.1"},
		{"404", "404", id, "not-found", "v7.3.1"},
		{"500", "500", id, "server", "v7.3.1"},
		{"truncated", "truncated", id, "invalid-index", "v7.3.1"},
		{"charts missing", "ok", id, "missing-charts", "v7.2.2c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode = tt.mode
			r := &Repo{Name: "actility", URL: srv.URL, ID: tt.id, RepoConfig: filepath.Join(dir, "repositories.yaml"), RepoCache: dir, Getters: getters}
			target, _ := manifest.MustLoad().Resolve(tt.target)
			err := r.CheckCharts(target)
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RepoError
			if !errors.As(err, &re) || re.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
			if strings.Contains(err.Error(), tt.id) {
				t.Errorf("the error holds the ID: %v", err)
			}
			if tt.kind == "rejected" && !strings.Contains(err.Error(), "installation ID rejected") {
				t.Errorf("err = %v", err)
			}
		})
	}
	r := &Repo{Name: "actility", URL: srv.URL, ID: id, RepoConfig: filepath.Join(dir, "sub", "repositories.yaml"), RepoCache: dir, Getters: getters}
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRepo("actility", r.RepoConfig, dir, getters)
	if err != nil || got.ID != id || got.URL != srv.URL {
		t.Fatalf("LoadRepo = %+v, %v", got, err)
	}
	var nr *RepoNotReadyError
	if _, err := LoadRepo("other", r.RepoConfig, dir, getters); !errors.As(err, &nr) || nr.Name != "other" || nr.NoCredentials {
		t.Errorf("LoadRepo(other) = %v, want a *RepoNotReadyError (the command says how to add it)", err)
	}
}

// An index cut in the middle of an entry can still be valid YAML: Helm then skips the entry, and
// the download must still read as truncated, not as a repository that lacks the chart.
func TestIncompleteEntries(t *testing.T) {
	for _, tt := range []struct {
		name, index string
		bad         bool
	}{
		{"complete", "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n", false},
		{"entry cut before its name", "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  b:\n  - apiVersion: v2\n", true},
		{"entry without a version", "apiVersion: v1\nentries:\n  a:\n  - name: a\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "index.yaml")
			if err := os.WriteFile(p, []byte(tt.index), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := incompleteEntries(p); (err != nil) != tt.bad {
				t.Errorf("incompleteEntries = %v, want an error: %v", err, tt.bad)
			}
		})
	}
}
