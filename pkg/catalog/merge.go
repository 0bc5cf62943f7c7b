package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// SourceLearned marks, in Release.Source, a release learned from the configuration repository.
const SourceLearned = "learned"

// Conflict is a release the repository describes differently from the embedded matrix. The
// embedded entry is kept; the difference is shown so that a person decides.
type Conflict struct {
	Name     string           `json:"name"`
	Embedded manifest.Release `json:"embedded"`
	Learned  manifest.Release `json:"learned"`
}

// String describes the conflict in one line.
func (c Conflict) String() string {
	return fmt.Sprintf("%s: the configuration repository (%s) says %s, the embedded matrix says %s; the embedded entry is kept",
		c.Name, refOf(c.Learned), charts(c.Learned), charts(c.Embedded))
}

// Unreleased is the branch's VERSIONS when no release in the matrix or among the tags has its
// charts: a release in preparation, with no name yet. It is shown, never installed.
type Unreleased struct {
	Ref     string           `json:"ref"`
	Commit  string           `json:"commit"`
	Release manifest.Release `json:"release"`
}

// Named is a release learned from the branch, with no tag: how it was named.
type Named struct {
	Name string `json:"name"`
	// How says what the vendor published that gives the name, in one line.
	How string `json:"how"`
}

// Merged is the embedded matrix plus what a catalog adds.
type Merged struct {
	Matrix *manifest.Matrix `json:"-"`
	// Learned names the releases added from the catalog, oldest first.
	Learned    []string     `json:"learned,omitempty"`
	Conflicts  []Conflict   `json:"conflicts,omitempty"`
	Unreleased []Unreleased `json:"unreleased,omitempty"`
	// Named are the releases learned from the branch without a tag (also in Learned).
	Named     []Named   `json:"named,omitempty"`
	FetchedAt time.Time `json:"fetchedAt,omitzero"`
	Source    string    `json:"source,omitempty"`
}

// Merge adds to a copy of embedded every tagged release of c it does not know. A tag that names
// an embedded release (or one of its aliases) with the same four charts confirms it; with other
// charts it is a Conflict. The branch's VERSIONS confirms the release with its charts, or is
// Unreleased. A learned release gets the Kubernetes range of the newest embedded release of its
// line, marked inferred, or none when the line is new.
func Merge(embedded *manifest.Matrix, c *Catalog) Merged {
	m := &manifest.Matrix{Releases: append([]manifest.Release(nil), embedded.Releases...)}
	out := Merged{Matrix: m}
	if c == nil {
		return out
	}
	out.FetchedAt, out.Source = c.FetchedAt, c.Source
	var branches []Ref
	for _, r := range c.Refs {
		if r.Branch {
			branches = append(branches, r)
			continue
		}
		learned := r.Release
		if e, ok := embedded.Get(learned.Name); ok {
			if !sameCharts(e, learned) {
				out.Conflicts = append(out.Conflicts, Conflict{Name: learned.Name, Embedded: e, Learned: learned})
			}
			continue
		}
		if _, ok := m.Get(learned.Name); ok {
			continue // two tags of one name cannot happen; be safe
		}
		learned.Source = SourceLearned + " " + learned.Source
		if l, ok := embedded.LatestFix(lineOf(learned.Name)); ok {
			learned.Kubernetes = manifest.KubeRange{Min: l.Kubernetes.Min, Max: l.Kubernetes.Max, Source: "inferred"}
		}
		m.Releases = append(m.Releases, learned)
		out.Learned = append(out.Learned, learned.Name)
	}
	sort.SliceStable(m.Releases, func(i, j int) bool { return m.Releases[i].Before(m.Releases[j]) })
	for _, b := range branches {
		known := false
		for _, r := range m.Releases {
			if sameCharts(r, b.Release) {
				known = true
				break
			}
		}
		if known {
			continue
		}
		name, how := nameBranch(m, b)
		if _, taken := m.Get(name); name == "" || taken {
			out.Unreleased = append(out.Unreleased, Unreleased{Ref: b.Name, Commit: b.Commit, Release: b.Release})
			continue
		}
		learned := b.Release
		learned.Name, learned.Tagged, learned.Ref, learned.Commit = name, false, b.Name, b.Commit
		learned.Date = strings.SplitN(b.Date, "T", 2)[0]
		learned.Source = SourceLearned + " " + learned.Source
		if l, ok := m.LatestFix(lineOf(name)); ok {
			learned.Kubernetes = manifest.KubeRange{Min: l.Kubernetes.Min, Max: l.Kubernetes.Max, Source: "inferred"}
		}
		m.Releases = append(m.Releases, learned)
		out.Learned = append(out.Learned, name)
		out.Named = append(out.Named, Named{Name: name, How: how})
	}
	sort.SliceStable(m.Releases, func(i, j int) bool { return m.Releases[i].Before(m.Releases[j]) })
	return out
}

// nameBranch names the release the branch's VERSIONS publishes without a tag, from what the
// vendor publishes: the chart repository's appVersion of its thingpark-enterprise chart, else the
// release commit of its VERSIONS ("Release thingpark-enterprise X.Y.Z", X.Y.Z its chart, not a
// release candidate): the next fix of the release whose chart it follows (chart 2.0.1 after
// v8.0.0's 2.0.0 is v8.0.1). "" when nothing names it.
func nameBranch(m *manifest.Matrix, b Ref) (string, string) {
	chart := manifest.ChartEnterprise + " " + b.Release.Enterprise
	if b.AppVersion != "" {
		if t, err := manifest.ParseTag(b.AppVersion); err == nil {
			return t.String(), fmt.Sprintf("named from the chart repository: %s has appVersion %s", chart, b.AppVersion)
		}
	}
	msg := strings.TrimSpace(strings.SplitN(b.Message, "\n", 2)[0])
	v, ok := strings.CutPrefix(msg, "Release "+manifest.ChartEnterprise+" ")
	if !ok || strings.TrimSpace(v) != b.Release.Enterprise {
		return "", ""
	}
	commit := fmt.Sprintf("the release commit %.12s (%q)", b.VersionsCommit, msg)
	prev, ok := m.ByEnterpriseChart(b.Release.Enterprise)
	if !ok || !chartNewer(b.Release.Enterprise, prev.Enterprise) {
		return "", ""
	}
	t := manifest.MustParseTag(prev.Name)
	next := manifest.Tag{Major: t.Major, Minor: t.Minor, Patch: t.Patch + 1}
	return next.String(), fmt.Sprintf("named from %s: chart %s follows %s's %s, in the %s line (no appVersion to confirm the name)",
		commit, b.Release.Enterprise, prev.Name, prev.Enterprise, t.Line())
}

// chartNewer reports whether chart version a is newer than b (plain x.y.z; a pre-release is not a release).
func chartNewer(a, b string) bool {
	ta, err1 := manifest.ParseTag(a)
	tb, err2 := manifest.ParseTag(b)
	return err1 == nil && err2 == nil && ta.Hotfix == "" && tb.Less(ta)
}

func lineOf(name string) string {
	t, err := manifest.ParseTag(name)
	if err != nil {
		return ""
	}
	return t.Line()
}

func sameCharts(a, b manifest.Release) bool {
	ac, bc := a.Charts(), b.Charts()
	for i := range ac {
		if ac[i] != bc[i] {
			return false
		}
	}
	return true
}

func charts(r manifest.Release) string {
	var parts []string
	for _, c := range r.Charts() {
		parts = append(parts, c.Chart+" "+c.Version)
	}
	return strings.Join(parts, ", ")
}

func refOf(r manifest.Release) string {
	if r.Tagged {
		return "tag " + r.Name
	}
	return r.Ref + " at " + short(r.Commit)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Options drive Resolve.
type Options struct {
	// Refresh reads the configuration repository now; otherwise only the cache is read.
	Refresh bool
	// CacheDir is where the catalog is cached (next to Helm's repository cache); empty: no cache.
	CacheDir string
	Config   Config
}

// Result is the matrix to use and what the refresh said.
type Result struct {
	Merged
	// Warnings are failures that did not stop the command: a refresh that failed (the cache or the
	// embedded matrix is used instead), an unreadable cache, conflicts, skipped VERSIONS files.
	Warnings []string `json:"warnings,omitempty"`
	// Refreshed is true when the repository was read now.
	Refreshed bool `json:"refreshed"`
	// Cached is true when the catalog came from the cache.
	Cached bool `json:"cached,omitempty"`
}

// Resolve returns the embedded matrix merged with the catalog: refreshed now when asked (and
// cached), else the cached one. It never fails because of the network or the cache: such failures
// are warnings, and the embedded matrix (with the last good cache, if any) is used.
func Resolve(ctx context.Context, embedded *manifest.Matrix, o Options) Result {
	var res Result
	var cat *Catalog
	if o.Refresh {
		c, err := Fetch(ctx, o.Config)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("refreshing the TPE releases failed, using the embedded release matrix%s: %v",
				map[bool]string{true: " and the cached releases", false: ""}[o.CacheDir != "" && cacheExists(o.CacheDir)], err))
		} else {
			cat, res.Refreshed = c, true
			if o.CacheDir != "" {
				if err := Save(o.CacheDir, c); err != nil {
					res.Warnings = append(res.Warnings, "could not cache the refreshed releases: "+err.Error())
				}
			}
		}
	}
	if cat == nil && o.CacheDir != "" {
		c, err := LoadCache(o.CacheDir)
		if err != nil {
			res.Warnings = append(res.Warnings, "ignoring the cached releases: "+err.Error())
		} else if c != nil {
			cat, res.Cached = c, true
		}
	}
	res.Merged = Merge(embedded, cat)
	if cat != nil {
		for _, p := range cat.Problems {
			res.Warnings = append(res.Warnings, fmt.Sprintf("skipped %s of the configuration repository: %s", p.Ref, p.Err))
		}
	}
	for _, c := range res.Conflicts {
		res.Warnings = append(res.Warnings, "conflict: "+c.String())
	}
	return res
}

func cacheExists(dir string) bool {
	c, err := LoadCache(dir)
	return err == nil && c != nil
}
