// Package configrepo is a fake of the vendor's configuration repository as GitHub serves it, for
// tests of `helm tpe releases --refresh`:
//
//	GET /api/tags?per_page=N&page=P   the tags, GitHub REST style ([{"name", "commit": {"sha"}}])
//	GET /api/branches/<branch>        the branch ({"name", "commit": {"sha"}})
//	GET /api/commits?sha=S&path=VERSIONS  the commit that wrote the VERSIONS of ref S (a name or a
//	                                  commit): [{"sha", "commit": {"message", "committer": {"date"}}}]
//	GET /raw/<tag|commit>/VERSIONS    the VERSIONS file at a tag or commit
//	GET /raw/<tag|commit>/<path>      any other file of the ref (Ref.Files)
//
// Point the plugin at it with HELM_TPE_CONFIG_REPO_API=<url>/api and HELM_TPE_CONFIG_REPO_RAW=<url>/raw.
package configrepo

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Ref is a tag or a branch and the VERSIONS file it holds.
type Ref struct {
	Name     string
	Versions string
	// Files are the other files of the ref, by path (container-manifest.txt,
	// manifests/upgrade/...), served under /raw/<ref>/<path>.
	Files map[string]string
	// Message and Date are those of the commit that wrote VERSIONS (default "Update VERSIONS",
	// 2025-01-01): the vendor publishes an untagged release as "Release thingpark-enterprise X.Y.Z".
	Message string
	Date    string
}

// Repo is the fake repository; safe for concurrent use.
type Repo struct {
	mu       sync.Mutex // guards the fields below
	tags     []Ref
	branches []Ref
	requests []string
}

// New returns a repository with the given tags and branches.
func New(tags, branches []Ref) *Repo { return &Repo{tags: tags, branches: branches} }

// Commit is the fake commit id of a ref: a hash of its name and content.
func Commit(r Ref) string {
	s := sha1.Sum([]byte(r.Name + "\x00" + r.Versions))
	return hex.EncodeToString(s[:])
}

// Requests returns the paths served so far.
func (r *Repo) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// ServeHTTP implements http.Handler.
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req.URL.Path)
	p := req.URL.Path
	switch {
	case p == "/api/tags":
		per, _ := strconv.Atoi(req.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(req.URL.Query().Get("page"))
		if per <= 0 {
			per = 30
		}
		if page <= 0 {
			page = 1
		}
		type tag struct {
			Name   string `json:"name"`
			Commit struct {
				SHA string `json:"sha"`
			} `json:"commit"`
		}
		all := append([]Ref(nil), r.tags...)
		sort.Slice(all, func(i, j int) bool { return all[i].Name > all[j].Name })
		out := []tag{}
		for i := (page - 1) * per; i < len(all) && i < page*per; i++ {
			var t tag
			t.Name, t.Commit.SHA = all[i].Name, Commit(all[i])
			out = append(out, t)
		}
		writeJSON(w, out)
	case strings.HasPrefix(p, "/api/branches/"):
		name := strings.TrimPrefix(p, "/api/branches/")
		for _, b := range r.branches {
			if b.Name == name {
				writeJSON(w, map[string]any{"name": b.Name, "commit": map[string]string{"sha": Commit(b)}})
				return
			}
		}
		http.NotFound(w, req)
	case p == "/api/commits" && req.URL.Query().Get("path") == "VERSIONS":
		at := req.URL.Query().Get("sha")
		for _, ref := range append(append([]Ref(nil), r.tags...), r.branches...) {
			if ref.Name == at || Commit(ref) == at {
				msg, date := ref.Message, ref.Date
				if msg == "" {
					msg = "Update VERSIONS"
				}
				if date == "" {
					date = "2025-01-01T00:00:00Z"
				}
				writeJSON(w, []map[string]any{{"sha": Commit(ref), "commit": map[string]any{"message": msg, "committer": map[string]string{"date": date}}}})
				return
			}
		}
		http.NotFound(w, req)
	case strings.HasPrefix(p, "/raw/") && strings.HasSuffix(p, "/VERSIONS"):
		at := strings.TrimSuffix(strings.TrimPrefix(p, "/raw/"), "/VERSIONS")
		for _, ref := range append(append([]Ref(nil), r.tags...), r.branches...) {
			if ref.Name == at || Commit(ref) == at {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = w.Write([]byte(ref.Versions))
				return
			}
		}
		http.NotFound(w, req)
	case strings.HasPrefix(p, "/raw/"):
		at, file, _ := strings.Cut(strings.TrimPrefix(p, "/raw/"), "/")
		for _, ref := range append(append([]Ref(nil), r.tags...), r.branches...) {
			if body, ok := ref.Files[file]; ok && (ref.Name == at || Commit(ref) == at) {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = w.Write([]byte(body))
				return
			}
		}
		http.NotFound(w, req)
	default:
		http.NotFound(w, req)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Dir is the fixture tree of the configuration repository the tests serve (testdata/configrepo):
// CRD and RBAC manifests and examples written in the shape of the vendor's, not copies of them.
func Dir() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..", "testdata", "configrepo")
}

// Files reads the fixture tree, by path (for Ref.Files).
func Files() (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(Dir(), p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out, err
}
