// Package chartrepo is a local Helm chart repository for tests and the demo. Like the vendor's
// repository (https://repository.thingpark.com/charts) it sits behind HTTP basic auth where the
// user and the password are both the TPE installation ID.
//
// New packages the fixture charts (one source directory per chart, testdata/charts/<chart>) at the
// chart versions named by every release manifest testdata/releases/<tag>/VERSIONS, overriding the
// version and appVersion of Chart.yaml (appVersion = the tag without "v"), and serves:
//
//	GET /charts/index.yaml             the repository index (relative chart URLs)
//	GET /charts/<chart>-<version>.tgz  the packaged charts
//	GET /releases/<tag>/VERSIONS       the release manifests (also behind auth)
//
// Faults can be switched at run time for tests (404, 500, truncated index). The installation ID is
// never logged. It is a test and development tool; it may import Helm.
package chartrepo

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Fault is a failure mode of the repository, for tests.
type Fault int32

const (
	// FaultNone serves normally.
	FaultNone Fault = iota
	// FaultNotFound answers 404 to every authenticated request.
	FaultNotFound
	// FaultServerError answers 500 to every authenticated request.
	FaultServerError
	// FaultTruncatedIndex serves only the first half of index.yaml (charts are served normally).
	FaultTruncatedIndex
)

// String returns the name of f.
func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "none"
	case FaultNotFound:
		return "404"
	case FaultServerError:
		return "500"
	case FaultTruncatedIndex:
		return "truncated-index"
	}
	return fmt.Sprintf("Fault(%d)", int32(f))
}

// ParseFault parses "none", "404", "500" or "truncated-index".
func ParseFault(s string) (Fault, error) {
	for _, f := range []Fault{FaultNone, FaultNotFound, FaultServerError, FaultTruncatedIndex} {
		if s == f.String() {
			return f, nil
		}
	}
	return FaultNone, fmt.Errorf("unknown fault %q (want none, 404, 500 or truncated-index)", s)
}

// Faults holds the current fault mode; it is safe for concurrent use. The zero value serves normally.
type Faults struct{ v atomic.Int32 }

// Set switches the fault mode.
func (f *Faults) Set(mode Fault) { f.v.Store(int32(mode)) }

// Get returns the current fault mode.
func (f *Faults) Get() Fault {
	if f == nil {
		return FaultNone
	}
	return Fault(f.v.Load())
}

// Config configures New.
type Config struct {
	// ChartsDir holds one source directory per chart (testdata/charts).
	ChartsDir string
	// ReleasesDir holds <tag>/VERSIONS files (testdata/releases).
	ReleasesDir string
	// InstallationID is the only accepted user name and password. Required.
	InstallationID string
	// Faults, if not nil, selects a failure mode per request.
	Faults *Faults
	// Logf, if not nil, receives one line per request (method, path, status; never credentials).
	Logf func(format string, args ...any)
}

// Chart is one packaged chart served by the repository.
type Chart struct {
	Name, Version, AppVersion, File string
}

type server struct {
	id       []byte
	faults   *Faults
	logf     func(string, ...any)
	index    []byte
	files    map[string][]byte // "<chart>-<version>.tgz" → archive
	versions map[string][]byte // tag → VERSIONS
}

// New packages the fixture charts and returns the repository's HTTP handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.InstallationID == "" {
		return nil, errors.New("chartrepo: an installation ID is required")
	}
	s := &server{
		id:       []byte(cfg.InstallationID),
		faults:   cfg.Faults,
		logf:     cfg.Logf,
		files:    map[string][]byte{},
		versions: map[string][]byte{},
	}
	charts, err := s.build(cfg.ChartsDir, cfg.ReleasesDir)
	if err != nil {
		return nil, err
	}
	if len(charts) == 0 {
		return nil, fmt.Errorf("chartrepo: no releases found in %s", cfg.ReleasesDir)
	}
	return s, nil
}

// Package returns the charts New would serve, packaged, without starting anything: the archive bytes
// by file name and the list of charts. Used by tests that need a chart file.
func Package(chartsDir, releasesDir string) (map[string][]byte, []Chart, error) {
	s := &server{files: map[string][]byte{}, versions: map[string][]byte{}}
	charts, err := s.build(chartsDir, releasesDir)
	return s.files, charts, err
}

func (s *server) build(chartsDir, releasesDir string) ([]Chart, error) {
	entries, err := os.ReadDir(releasesDir)
	if err != nil {
		return nil, fmt.Errorf("chartrepo: read releases: %w", err)
	}
	tmp, err := os.MkdirTemp("", "chartrepo-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	idx := repo.NewIndexFile()
	var charts []Chart
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		tag := e.Name()
		file := filepath.Join(releasesDir, tag, "VERSIONS")
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("chartrepo: %w", err)
		}
		rel, err := manifest.ParseVersions(file, data)
		if err != nil {
			return nil, fmt.Errorf("chartrepo: %w", err)
		}
		s.versions[tag] = data
		appVersion := strings.TrimPrefix(tag, "v")
		for _, ref := range rel.Charts() {
			name := ref.Chart + "-" + ref.Version + ".tgz"
			if _, done := s.files[name]; done {
				continue
			}
			ch, err := loader.LoadDir(filepath.Join(chartsDir, ref.Chart))
			if err != nil {
				return nil, fmt.Errorf("chartrepo: load chart %s: %w", ref.Chart, err)
			}
			ch.Metadata.Version = ref.Version
			ch.Metadata.AppVersion = appVersion
			if err := applySince(ch, filepath.Join(chartsDir, ref.Chart)); err != nil {
				return nil, err
			}
			if err := addLibraries(ch, chartsDir); err != nil {
				return nil, err
			}
			archive, err := save(ch, tmp)
			if err != nil {
				return nil, fmt.Errorf("chartrepo: package %s %s: %w", ref.Chart, ref.Version, err)
			}
			sum := sha256.Sum256(archive)
			if err := idx.MustAdd(ch.Metadata, name, "", hex.EncodeToString(sum[:])); err != nil {
				return nil, fmt.Errorf("chartrepo: index %s: %w", name, err)
			}
			s.files[name] = archive
			charts = append(charts, Chart{Name: ref.Chart, Version: ref.Version, AppVersion: appVersion, File: name})
		}
	}
	idx.SortEntries()
	if s.index, err = yaml.Marshal(idx); err != nil {
		return nil, err
	}
	sort.Slice(charts, func(i, j int) bool { return charts[i].File < charts[j].File })
	return charts, nil
}

// applySince drops the files that, per the chart dir's fixture-versions.yaml ("since: {file: version}"),
// only exist from a later chart version. values.schema.json is the chart's Schema; other names are
// template or plain files.
func applySince(ch *chart.Chart, dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "fixture-versions.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var spec struct {
		Since map[string]string `json:"since"`
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("chartrepo: %s/fixture-versions.yaml: %w", dir, err)
	}
	v, err := semver.NewVersion(ch.Metadata.Version)
	if err != nil {
		return fmt.Errorf("chartrepo: chart %s version %q: %w", ch.Name(), ch.Metadata.Version, err)
	}
	for file, since := range spec.Since {
		lowest, err := semver.NewVersion(since)
		if err != nil {
			return fmt.Errorf("chartrepo: %s/fixture-versions.yaml: %s: %w", dir, file, err)
		}
		if !v.LessThan(lowest) {
			continue
		}
		if file == "values.schema.json" {
			ch.Schema = nil
		}
		ch.Templates = dropFile(ch.Templates, file)
		ch.Files = dropFile(ch.Files, file)
	}
	return nil
}

func dropFile(files []*chart.File, name string) []*chart.File {
	var kept []*chart.File
	for _, f := range files {
		if f.Name != name {
			kept = append(kept, f)
		}
	}
	return kept
}

// addLibraries vendors the file:// dependencies of ch (the fixture library chart) into it, as
// `helm dependency build` would.
func addLibraries(ch *chart.Chart, chartsDir string) error {
	for _, dep := range ch.Metadata.Dependencies {
		if !strings.HasPrefix(dep.Repository, "file://") {
			continue
		}
		vendored := false
		for _, d := range ch.Dependencies() {
			vendored = vendored || d.Name() == dep.Name
		}
		if vendored {
			continue
		}
		lib, err := loader.LoadDir(filepath.Join(chartsDir, filepath.Base(strings.TrimPrefix(dep.Repository, "file://"))))
		if err != nil {
			return fmt.Errorf("chartrepo: load dependency %s of %s: %w", dep.Name, ch.Name(), err)
		}
		ch.AddDependency(lib)
	}
	return nil
}

func save(ch *chart.Chart, dir string) ([]byte, error) {
	path, err := chartutil.Save(ch, dir)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	return os.ReadFile(path)
}

// ServeHTTP implements http.Handler.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.serve(rec, r)
	if s.logf != nil {
		s.logf("chartrepo: %s %s %d", r.Method, r.URL.Path, rec.status)
	}
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), s.id) != 1 || subtle.ConstantTimeCompare([]byte(pass), s.id) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="ThingPark repository"`)
		http.Error(w, "401 Unauthorized: the user and the password must both be the installation ID", http.StatusUnauthorized)
		return
	}
	fault := s.faults.Get()
	switch fault {
	case FaultNotFound:
		http.NotFound(w, r)
		return
	case FaultServerError:
		http.Error(w, "internal server error (fault injected)", http.StatusInternalServerError)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/charts/index.yaml" || p == "/charts/index.yml":
		body := s.index
		if fault == FaultTruncatedIndex {
			body = body[:len(body)/2]
		}
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = w.Write(body)
	case strings.HasPrefix(p, "/charts/") && strings.HasSuffix(p, ".tgz"):
		data, ok := s.files[strings.TrimPrefix(p, "/charts/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(data)
	case strings.HasPrefix(p, "/releases/") && strings.HasSuffix(p, "/VERSIONS"):
		data, ok := s.versions[strings.TrimSuffix(strings.TrimPrefix(p, "/releases/"), "/VERSIONS")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(data)
	default:
		http.NotFound(w, r)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
