// Package charts is the access to the vendor's chart repository (or a mirror): the repository
// entry of Helm's repositories.yaml with the installation ID as user and password, its index, the
// check that a release's four charts are served, and the download of a chart. Errors never hold
// the installation ID.
package charts

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/helmpath"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// DefaultRepoName and DefaultRepoURL are the vendor's repository, as the TPE upgrade procedure adds it.
const (
	DefaultRepoName = "actility"
	DefaultRepoURL  = "https://repository.thingpark.com/charts"
)

// Repo is a chart repository with the installation ID as user and password.
type Repo struct {
	Name string
	URL  string
	// ID is the installation ID (a secret: never print it).
	ID string
	// RepoConfig and RepoCache are Helm's repositories.yaml and cache directory.
	RepoConfig string
	RepoCache  string
	Getters    getter.Providers
	// URLFrom names where URL came from for the errors that ask to check it, e.g. "--repo-url";
	// empty: "the repository URL".
	URLFrom string

	index *repo.IndexFile
}

// RepoError is a repository failure with a message fit for the user (it never holds the ID).
type RepoError struct {
	// Kind is "rejected", "not-found", "server", "invalid-index", "unreachable" or "missing-charts".
	Kind string
	Msg  string
}

// Error implements error.
func (e *RepoError) Error() string { return e.Msg }

// RepoNotReadyError is a chart repository that Helm's repositories.yaml does not hold, or holds
// without credentials (NoCredentials). The command says how to add it.
type RepoNotReadyError struct {
	Name, RepoConfig string
	NoCredentials    bool
}

func (e *RepoNotReadyError) Error() string {
	if e.NoCredentials {
		return fmt.Sprintf("the chart repository %q has no credentials", e.Name)
	}
	return fmt.Sprintf("the chart repository %q is not configured in %s", e.Name, e.RepoConfig)
}

// LoadRepo reads the repository name from Helm's repositories.yaml (added by `helm tpe repo add`
// or `helm repo add`). A missing entry says how to add it.
func LoadRepo(name, repoConfig, repoCache string, getters getter.Providers) (*Repo, error) {
	f, err := repo.LoadFile(repoConfig)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading Helm's repository file %s: %w", repoConfig, err)
	}
	var e *repo.Entry
	if f != nil {
		e = f.Get(name)
	}
	if e == nil {
		return nil, &RepoNotReadyError{Name: name, RepoConfig: repoConfig}
	}
	if e.Username == "" {
		return nil, &RepoNotReadyError{Name: name, RepoConfig: repoConfig, NoCredentials: true}
	}
	return &Repo{Name: name, URL: e.URL, ID: e.Password, RepoConfig: repoConfig, RepoCache: repoCache, Getters: getters,
		URLFrom: fmt.Sprintf("the URL of repository %s (`helm repo list`)", name)}, nil
}

// incompleteEntries finds the chart entries of an index that lack a name or a version: Helm skips
// them with a log line, which hides a truncated download (cut in the middle of an entry) behind a
// later "chart not found".
func incompleteEntries(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var raw struct {
		Entries map[string][]map[string]any `json:"entries"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return err
	}
	for chart, versions := range raw.Entries {
		for i, v := range versions {
			if v["name"] == nil || v["version"] == nil {
				return fmt.Errorf("entry %d of chart %q has no name or version", i+1, chart)
			}
		}
	}
	return nil
}

// InstallationID is the repository's password (a secret: for redaction only).
func (r *Repo) InstallationID() string { return r.ID }

func (r *Repo) entry() *repo.Entry {
	return &repo.Entry{Name: r.Name, URL: strings.TrimSuffix(r.URL, "/"), Username: r.ID, Password: r.ID}
}

// FetchIndex downloads index.yaml with the credentials and parses it. 401/403 is "installation ID
// rejected"; 404, 5xx and an index that does not parse are clear errors too.
func (r *Repo) FetchIndex() (*repo.IndexFile, error) {
	red := redact.New(r.ID)
	cr, err := repo.NewChartRepository(r.entry(), r.Getters)
	if err != nil {
		return nil, red.Error(fmt.Errorf("chart repository %s: %w", r.URL, err))
	}
	cr.CachePath = r.RepoCache
	path, err := cr.DownloadIndexFile()
	if err != nil {
		return nil, classify(r.URL, r.urlFrom(), red.Error(err))
	}
	idx, err := repo.LoadIndexFile(path)
	if err == nil {
		err = incompleteEntries(path)
	}
	if err != nil {
		return nil, &RepoError{Kind: "invalid-index", Msg: fmt.Sprintf("the index of chart repository %s is invalid or truncated (%v): try again later, or check %s", r.URL, red.Error(err), r.urlFrom())}
	}
	r.index = idx
	return idx, nil
}

func (r *Repo) urlFrom() string {
	if r.URLFrom == "" {
		return "the repository URL"
	}
	return r.URLFrom
}

// classify turns a getter error into a RepoError; urlFrom names what to check when the URL
// looks wrong.
func classify(url, urlFrom string, err error) error {
	msg := err.Error()
	// Helm's getter ends the error with " : <HTTP status>"; only that part is the status (the URL
	// before it may contain "401" or ": 5", e.g. in a port number).
	code := ""
	if st := statusIn(msg); st != "error" {
		code, _, _ = strings.Cut(st, " ")
	}
	switch {
	case code == "401" || code == "403":
		return &RepoError{Kind: "rejected", Msg: fmt.Sprintf("installation ID rejected by the chart repository %s (HTTP %s): check the installation ID Actility gave you", url, statusIn(msg))}
	case code == "404":
		return &RepoError{Kind: "not-found", Msg: fmt.Sprintf("chart repository %s has no index.yaml (HTTP 404): check %s", url, urlFrom)}
	case len(code) == 3 && code[0] == '5':
		return &RepoError{Kind: "server", Msg: fmt.Sprintf("chart repository %s failed (HTTP %s): try again later", url, statusIn(msg))}
	case strings.Contains(msg, "error converting YAML") || strings.Contains(msg, "no API version") || strings.Contains(msg, "yaml: "):
		return &RepoError{Kind: "invalid-index", Msg: fmt.Sprintf("the index of chart repository %s is invalid or truncated: try again later (%s)", url, msg)}
	}
	return &RepoError{Kind: "unreachable", Msg: fmt.Sprintf("cannot reach chart repository %s: %s", url, msg)}
}

func statusIn(msg string) string {
	if i := strings.LastIndex(msg, " : "); i >= 0 {
		return strings.TrimSpace(msg[i+3:])
	}
	return "error"
}

// CheckCharts verifies that every chart of the releases is in the index.
func (r *Repo) CheckCharts(releases ...manifest.Release) error {
	if r.index == nil {
		if _, err := r.FetchIndex(); err != nil {
			return err
		}
	}
	var missing []string
	for _, rel := range releases {
		for _, c := range r.missing(rel) {
			missing = append(missing, fmt.Sprintf("%s %s (%s)", c.Chart, c.Version, rel.Name))
		}
	}
	if len(missing) > 0 {
		return &RepoError{Kind: "missing-charts", Msg: fmt.Sprintf("chart repository %s lacks %s: check %s, or that your installation ID gives access to this release", r.URL, strings.Join(missing, ", "), r.urlFrom())}
	}
	return nil
}

// Serves returns the releases whose four charts are all in the index, in the order given: a
// mirror, or a repository that only carries what a customer licensed, serves some releases of
// the matrix and not others.
func (r *Repo) Serves(releases []manifest.Release) ([]manifest.Release, error) {
	if r.index == nil {
		if _, err := r.FetchIndex(); err != nil {
			return nil, err
		}
	}
	var out []manifest.Release
	for _, rel := range releases {
		if len(r.missing(rel)) == 0 {
			out = append(out, rel)
		}
	}
	return out, nil
}

// missing returns the charts of rel the fetched index lacks.
func (r *Repo) missing(rel manifest.Release) []manifest.ChartRef {
	var out []manifest.ChartRef
	for _, c := range rel.Charts() {
		if _, err := r.index.Get(c.Chart, c.Version); err != nil {
			out = append(out, c)
		}
	}
	return out
}

// Save writes the repository into Helm's repositories.yaml (mode 0600: it holds the ID), as
// `helm repo add --username ID --password ID NAME URL` does.
func (r *Repo) Save() error {
	f, err := repo.LoadFile(r.RepoConfig)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reading Helm's repository file %s: %w", r.RepoConfig, err)
		}
		f = repo.NewFile()
	}
	f.Update(r.entry())
	if err := os.MkdirAll(filepath.Dir(r.RepoConfig), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", r.RepoConfig, err)
	}
	if err := f.WriteFile(r.RepoConfig, 0o600); err != nil {
		return fmt.Errorf("writing Helm's repository file %s: %w", r.RepoConfig, err)
	}
	return nil
}

// IndexCachePath is where FetchIndex stored the index.
func (r *Repo) IndexCachePath() string {
	return filepath.Join(r.RepoCache, helmpath.CacheIndexFile(r.Name))
}

// LoadChart downloads a chart version from the repository and loads it.
func (r *Repo) LoadChart(name, version string) (*chart.Chart, error) {
	data, err := r.Download(name, version)
	if err != nil {
		return nil, err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("loading chart %s %s: %w", name, version, err)
	}
	return c, nil
}

// Download returns the packed chart (.tgz) of a chart version as the repository serves it. When
// the index gives the chart's digest, a download that does not match it is an error.
func (r *Repo) Download(name, version string) ([]byte, error) {
	red := redact.New(r.ID)
	if r.index == nil {
		if _, err := r.FetchIndex(); err != nil {
			return nil, err
		}
	}
	cv, err := r.index.Get(name, version)
	if err != nil || len(cv.URLs) == 0 {
		return nil, &RepoError{Kind: "missing-charts", Msg: fmt.Sprintf("chart %s %s is not in repository %s", name, version, r.URL)}
	}
	u, err := repo.ResolveReferenceURL(r.URL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	g, err := r.Getters.ByScheme(schemeOf(u))
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	buf, err := g.Get(u, getter.WithURL(r.URL), getter.WithBasicAuth(r.ID, r.ID), getter.WithPassCredentialsAll(true),
		getter.WithAcceptHeader("application/gzip,application/octet-stream"))
	if err != nil {
		return nil, classify(r.URL, r.urlFrom(), red.Error(fmt.Errorf("downloading %s %s: %w", name, version, err)))
	}
	if want := strings.TrimPrefix(cv.Digest, "sha256:"); want != "" {
		if got := fmt.Sprintf("%x", sha256.Sum256(buf.Bytes())); got != want {
			return nil, fmt.Errorf("chart %s %s from %s does not match the digest of the repository's index (got sha256 %s, want %s): the download was altered or cut; try again", name, version, r.URL, got, want)
		}
	}
	return buf.Bytes(), nil
}

func schemeOf(u string) string {
	if i := strings.Index(u, "://"); i > 0 {
		return u[:i]
	}
	return "https"
}

// Source loads the chart of a chart reference. *Repo is the real one; tests use fakes.
type Source interface {
	LoadChart(name, version string) (*chart.Chart, error)
}

// ReadIDFile reads an installation ID file (the first non-empty line, trimmed).
func ReadIDFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading the installation ID file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("reading the installation ID file %s: %w", path, err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l, nil
		}
	}
	return "", fmt.Errorf("the installation ID file %s is empty", path)
}

// CachedAppVersion returns a lookup of the appVersion of a chart version in the index of
// repository name cached in cacheDir (as the last `helm repo update` left it): "" when there is no
// cached index or no such version. The index is read once, on the first lookup.
func CachedAppVersion(cacheDir, name string) func(chart, version string) string {
	var (
		once sync.Once
		idx  *repo.IndexFile
	)
	return func(chart, version string) string {
		once.Do(func() {
			if cacheDir == "" {
				return
			}
			idx, _ = repo.LoadIndexFile(filepath.Join(cacheDir, helmpath.CacheIndexFile(name)))
		})
		if idx == nil {
			return ""
		}
		cv, err := idx.Get(chart, version)
		if err != nil || cv.Metadata == nil {
			return ""
		}
		return cv.AppVersion
	}
}
