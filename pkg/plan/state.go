package plan

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Installed is one of the four Helm releases as found in the namespace.
type Installed struct {
	ReleaseName string `json:"releaseName"`
	Chart       string `json:"chart"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion,omitempty"`
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
}

// State is what the namespace holds: the four releases (missing ones absent) and the TPE
// releases of the matrix they match.
type State struct {
	Namespace string               `json:"namespace"`
	Releases  map[string]Installed `json:"releases"`
	// Matches are the known TPE releases whose four charts equal the installed ones, newest first.
	Matches []string `json:"matches,omitempty"`
	// Current is the matched release used as the start of a path (nil: nothing installed).
	Current *manifest.Release `json:"-"`
	// Assumed is true for a state built by StateOf from a release name, not read from a cluster.
	Assumed bool `json:"assumed,omitempty"`

	last map[string]*helmrelease.Release
}

// StatusAssumed is the status of the releases of a State built by StateOf.
const StatusAssumed = "assumed"

// StateOf is the state of a namespace that runs release r, taken from the release matrix
// instead of Helm's history: the plan of a namespace nobody can read from here (a customer's
// cluster, planned on a laptop before a maintenance window). The path starts at r itself, even
// when other releases share its charts.
func StateOf(m *manifest.Matrix, r manifest.Release, namespace string) *State {
	st := &State{Namespace: namespace, Releases: map[string]Installed{}, Assumed: true}
	for _, c := range r.Charts() {
		st.Releases[c.ReleaseName] = Installed{ReleaseName: c.ReleaseName, Chart: c.Chart, Version: c.Version,
			AppVersion: strings.TrimPrefix(r.Name, "v"), Status: StatusAssumed}
	}
	st.Matches = []string{r.Name}
	for _, known := range m.Match(st.ChartRefs()) {
		if known.Name != r.Name {
			st.Matches = append(st.Matches, known.Name)
		}
	}
	st.Current = &r
	return st
}

// Fresh reports whether none of the four releases is installed.
func (s *State) Fresh() bool { return len(s.Releases) == 0 }

// ChartRefs returns the installed releases as manifest chart references (for manifest.Match).
func (s *State) ChartRefs() map[string]manifest.ChartRef {
	out := map[string]manifest.ChartRef{}
	for n, r := range s.Releases {
		out[n] = manifest.ChartRef{ReleaseName: n, Chart: r.Chart, Version: r.Version}
	}
	return out
}

// Describe summarises the installed charts, e.g. "tpe-data-controllers=thingpark-data-controllers-1.1.1, ...".
func (s *State) Describe() string {
	if s.Fresh() {
		return "nothing installed"
	}
	var parts []string
	for _, n := range manifest.ReleaseNames {
		if r, ok := s.Releases[n]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s-%s (%s)", n, r.Chart, r.Version, r.Status))
		} else {
			parts = append(parts, n+"=missing")
		}
	}
	return strings.Join(parts, ", ")
}

// LoadState reads the four TPE releases in cfg's namespace (every status, with one list of the
// namespace's Helm release records) and matches them against the release matrix.
func LoadState(cfg *action.Configuration, namespace string, m *manifest.Matrix) (*State, error) {
	last, err := LastReleases(cfg)
	if err != nil {
		return nil, err
	}
	st := &State{Namespace: namespace, Releases: map[string]Installed{}, last: last}
	for _, name := range manifest.ReleaseNames {
		r := last[name]
		if r == nil || r.Chart == nil || r.Chart.Metadata == nil {
			continue
		}
		if r.Info != nil && r.Info.Status == helmrelease.StatusUninstalled {
			continue
		}
		st.Releases[name] = fromHelm(r)
	}
	for _, r := range m.Match(st.ChartRefs()) {
		st.Matches = append(st.Matches, r.Name)
	}
	if len(st.Matches) > 0 {
		r, _ := m.Get(st.Matches[0])
		st.Current = &r
	}
	return st, nil
}

// Last returns the newest revision (any status) of a TPE release as LoadState read it, nil when
// it has none.
func (s *State) Last(name string) *helmrelease.Release {
	return s.last[name]
}

// LastReleases returns the newest revision (any status) of each of the four TPE releases, read
// with one list of the namespace's Helm release records; a release without any is absent.
func LastReleases(cfg *action.Configuration) (map[string]*helmrelease.Release, error) {
	all, err := cfg.Releases.ListReleases()
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, fmt.Errorf("reading the Helm releases: %w", err)
	}
	tpe := map[string]bool{}
	for _, n := range manifest.ReleaseNames {
		tpe[n] = true
	}
	out := map[string]*helmrelease.Release{}
	for _, r := range all {
		if r == nil || !tpe[r.Name] {
			continue
		}
		if old, ok := out[r.Name]; !ok || r.Version > old.Version {
			out[r.Name] = r
		}
	}
	return out, nil
}

func fromHelm(r *helmrelease.Release) Installed {
	in := Installed{ReleaseName: r.Name, Revision: r.Version}
	if r.Chart != nil && r.Chart.Metadata != nil {
		in.Chart, in.Version, in.AppVersion = r.Chart.Metadata.Name, r.Chart.Metadata.Version, r.Chart.Metadata.AppVersion
	}
	if r.Info != nil {
		in.Status = r.Info.Status.String()
	}
	return in
}

// LastRelease returns the newest revision of a release (any status), nil when it has none.
func LastRelease(cfg *action.Configuration, name string) (*helmrelease.Release, error) {
	h, err := History(cfg, name)
	if err != nil || len(h) == 0 {
		return nil, err
	}
	return h[len(h)-1], nil
}

// History returns every revision of a release, oldest first; nil when it does not exist.
func History(cfg *action.Configuration, name string) ([]*helmrelease.Release, error) {
	h, err := cfg.Releases.History(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the history of Helm release %s: %w", name, err)
	}
	sort.Slice(h, func(i, j int) bool { return h[i].Version < h[j].Version })
	return h, nil
}

// ChartFullName is "name-version", as Helm and the backup metadata write it.
func ChartFullName(c *chart.Chart) string {
	if c == nil || c.Metadata == nil {
		return ""
	}
	return c.Metadata.Name + "-" + c.Metadata.Version
}

// UserValues returns the user-supplied values of each installed TPE release (helm get values).
func UserValues(cfg *action.Configuration) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	for _, n := range manifest.ReleaseNames {
		last, err := LastRelease(cfg, n)
		if err != nil {
			return nil, err
		}
		if last == nil {
			continue
		}
		v, err := action.NewGetValues(cfg).Run(n)
		if err != nil {
			return nil, fmt.Errorf("helm get values %s: %w", n, err)
		}
		if v == nil {
			v = map[string]any{}
		}
		out[n] = v
	}
	return out, nil
}
