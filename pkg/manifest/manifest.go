// Package manifest knows TPE releases: the embedded release matrix, the vendor's VERSIONS file
// (the release manifest), the four charts of a release, and the upgrade path rules. It imports no
// Helm package, so kubectl-tpe can use it.
package manifest

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Chart names.
const (
	ChartDataControllers        = "thingpark-data-controllers"
	ChartData                   = "thingpark-data"
	ChartApplicationControllers = "thingpark-application-controllers"
	ChartEnterpriseControllers  = "thingpark-enterprise-controllers" // name of chart 3 up to 7.2.1b
	ChartEnterprise             = "thingpark-enterprise"
)

// Conventional Helm release names, in install order.
const (
	ReleaseDataControllers = "tpe-data-controllers"
	ReleaseData            = "tpe-data"
	ReleaseControllers     = "tpe-controllers"
	ReleaseEnterprise      = "tpe"
)

// DefaultNamespace is the namespace every vendor document uses.
const DefaultNamespace = "thingpark-enterprise"

// ReleaseNames lists the four Helm release names in install order.
var ReleaseNames = []string{ReleaseDataControllers, ReleaseData, ReleaseControllers, ReleaseEnterprise}

// KubeRange is the range of Kubernetes minor versions a release supports.
type KubeRange struct {
	Min    string `json:"min"`
	Max    string `json:"max"`
	Source string `json:"source"`
}

// Release is one TPE release: its name (the git tag) and its four charts.
type Release struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Date    string   `json:"date,omitempty"`
	Tagged  bool     `json:"tagged"`
	// Ref and Commit say where the VERSIONS file was read when it is not at a tag: a branch of
	// the vendor's configuration repository and its commit (8.0.0 is on main, untagged).
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
	// After orders a release whose name does not (v1.1.0, named by its chart version, comes after
	// v7.1.0): it sorts right after that release, in its line.
	After                  string    `json:"after,omitempty"`
	DataControllers        string    `json:"dataControllers"`
	Data                   string    `json:"data"`
	ApplicationControllers string    `json:"applicationControllers,omitempty"`
	EnterpriseControllers  string    `json:"enterpriseControllers,omitempty"`
	Enterprise             string    `json:"enterprise"`
	Kubernetes             KubeRange `json:"kubernetes"`
	// EKSVolumeType is the EBS volume type of the vendor's EKS StorageClass examples
	// (examples/storage/storage-class-amazon.yaml), stated on the release that changed it: later
	// releases keep it (Matrix.EKSVolumeType).
	EKSVolumeType string `json:"eksVolumeType,omitempty"`
	// Source says where the release came from: "matrix" (embedded), the VERSIONS file path, or the
	// URL a refresh read it from.
	Source string `json:"source,omitempty"`
}

// ChartRef is one chart of a release, with the Helm release name it is installed as.
type ChartRef struct {
	Step        int    `json:"step"`
	ReleaseName string `json:"releaseName"`
	Chart       string `json:"chart"`
	Version     string `json:"version"`
}

// Charts returns the four charts of r in install order.
func (r Release) Charts() []ChartRef {
	c3, v3 := ChartApplicationControllers, r.ApplicationControllers
	if v3 == "" {
		c3, v3 = ChartEnterpriseControllers, r.EnterpriseControllers
	}
	return []ChartRef{
		{1, ReleaseDataControllers, ChartDataControllers, r.DataControllers},
		{2, ReleaseData, ChartData, r.Data},
		{3, ReleaseControllers, c3, v3},
		{4, ReleaseEnterprise, ChartEnterprise, r.Enterprise},
	}
}

// Line returns the release line, e.g. "7.3" for v7.3.4a (and "7.1" for v1.1.0, ordered after v7.1.0).
func (r Release) Line() string {
	v, err := r.Key()
	if err != nil {
		return ""
	}
	return v.Line()
}

// Key is the tag r sorts as: its name's, or for a release ordered After another, that one's (Before
// puts r right after it).
func (r Release) Key() (Tag, error) {
	if r.After == "" {
		return ParseTag(r.Name)
	}
	t, err := ParseTag(r.After)
	if err != nil {
		return Tag{}, fmt.Errorf("release %s: after: %w", r.Name, err)
	}
	return t, nil
}

// MustKey is Key for a release known to be valid.
func (r Release) MustKey() Tag {
	t, err := r.Key()
	if err != nil {
		panic(err)
	}
	return t
}

// Before orders releases by Key, a release ordered After another coming right after it.
func (r Release) Before(o Release) bool {
	a, b := r.MustKey(), o.MustKey()
	if a != b {
		return a.Less(b)
	}
	return r.After == "" && o.After != ""
}

//go:embed releases.yaml
var releasesYAML []byte

// Matrix is the embedded list of known releases, oldest first.
type Matrix struct {
	Releases []Release `json:"releases"`
}

// Load parses the embedded matrix.
func Load() (*Matrix, error) {
	var m Matrix
	if err := yaml.UnmarshalStrict(releasesYAML, &m); err != nil {
		return nil, fmt.Errorf("embedded release matrix: %w", err)
	}
	for i := range m.Releases {
		m.Releases[i].Source = "matrix"
		if _, err := m.Releases[i].Key(); err != nil {
			return nil, fmt.Errorf("embedded release matrix: %w", err)
		}
	}
	sort.SliceStable(m.Releases, func(i, j int) bool { return m.Releases[i].Before(m.Releases[j]) })
	return &m, nil
}

// MustLoad is Load for callers that rely on the embedded data being valid (tested).
func MustLoad() *Matrix {
	m, err := Load()
	if err != nil {
		panic(err)
	}
	return m
}

// Get finds a release by name or alias; the leading "v" is optional and the case does not matter.
func (m *Matrix) Get(name string) (Release, bool) {
	n := normalizeName(strings.ToLower(name))
	for _, r := range m.Releases {
		if r.Name == n {
			return r, true
		}
		for _, a := range r.Aliases {
			if a == n {
				return r, true
			}
		}
	}
	return Release{}, false
}

// Names returns every release name (and alias), oldest first.
func (m *Matrix) Names() []string {
	var out []string
	for _, r := range m.Releases {
		out = append(out, r.Name)
		out = append(out, r.Aliases...)
	}
	return out
}

// Resolve returns the release with the given name, with a clear error that lists the known ones
// (an *UnknownReleaseError, or a *NameError for a name that is not a tag). The error names no
// flag: the caller says which flag or argument gave the name. ResolveRelease says more (a note).
func (m *Matrix) Resolve(name string) (Release, error) {
	if strings.TrimSpace(name) == "" {
		return Release{}, &NameError{Err: fmt.Errorf("empty TPE release name: want v<major>.<minor>.<patch>[a-z], e.g. v7.3.1")}
	}
	res, err := m.ResolveRelease(Request{Name: name})
	return res.Release, err
}

// LatestFix returns the newest tagged release of a line ("7.2" → v7.2.2c). A line with no tagged
// release at all (8.0, whose VERSIONS is on a branch) gives its newest release.
func (m *Matrix) LatestFix(line string) (Release, bool) {
	var best, bestAny Release
	found, foundAny := false, false
	for _, r := range m.Releases {
		if r.Line() != line {
			continue
		}
		if !foundAny || bestAny.Before(r) {
			bestAny, foundAny = r, true
		}
		if r.Tagged && (!found || best.Before(r)) {
			best, found = r, true
		}
	}
	if found {
		return best, true
	}
	return bestAny, foundAny
}

// EKSVolumeType is the EBS volume type of the vendor's EKS StorageClasses for a release: the one
// stated by the newest release of the matrix at or before it (gp2 when none is: the examples of
// 7.x), so a release learned later keeps its predecessors' choice.
func (m *Matrix) EKSVolumeType(name string) string {
	target, ok := m.Get(name)
	if !ok {
		t, err := ParseTag(strings.ToLower(name))
		if err != nil {
			return "gp2"
		}
		target = Release{Name: t.String()}
	}
	v := "gp2"
	for _, r := range m.Releases {
		if target.Before(r) {
			break
		}
		if r.EKSVolumeType != "" {
			v = r.EKSVolumeType
		}
	}
	return v
}

// ByEnterpriseChart returns the newest release whose thingpark-enterprise chart has the same
// major version as v (chart 2.x is TPE 8): the release line of a VERSIONS file nothing names.
func (m *Matrix) ByEnterpriseChart(v string) (Release, bool) {
	major := func(s string) string { return strings.SplitN(s, ".", 2)[0] }
	var out Release
	found := false
	for _, r := range m.Releases {
		if major(r.Enterprise) == major(v) {
			out, found = r, true
		}
	}
	return out, found
}

// Lines returns the release lines in order ("1.0", "7.1", "7.2", "7.3").
func (m *Matrix) Lines() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range m.Releases {
		if l := r.Line(); !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// Match finds the releases whose four chart versions equal the installed ones. installed maps
// Helm release name to "chart-version" pairs. Several releases can share the same charts
// (v7.3.0 and v7.3.1); the newest comes first.
func (m *Matrix) Match(installed map[string]ChartRef) []Release {
	var out []Release
	for _, r := range m.Releases {
		ok := true
		for _, c := range r.Charts() {
			got, found := installed[c.ReleaseName]
			if !found || got.Chart != c.Chart || got.Version != c.Version {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[j].Before(out[i]) })
	return out
}

func normalizeName(n string) string {
	n = strings.TrimSpace(n)
	if n != "" && n[0] != 'v' {
		n = "v" + n
	}
	return n
}

// Tag is a parsed release name: v<major>.<minor>.<patch><hotfix letters>.
type Tag struct {
	Major, Minor, Patch int
	Hotfix              string
}

// ParseTag parses "v7.2.2c".
func ParseTag(s string) (Tag, error) {
	s = normalizeName(s)
	if s == "" {
		return Tag{}, fmt.Errorf("empty TPE release name: want v<major>.<minor>.<patch>[a-z], e.g. v7.3.1")
	}
	parts := strings.Split(s[1:], ".")
	if len(parts) != 3 {
		return Tag{}, fmt.Errorf("invalid TPE release name %q: want v<major>.<minor>.<patch>[a-z], e.g. v7.3.1", s)
	}
	var t Tag
	var err error
	if t.Major, err = atoiDigits(parts[0]); err != nil {
		return Tag{}, fmt.Errorf("invalid TPE release name %q: major %q is not a number", s, parts[0])
	}
	if t.Minor, err = atoiDigits(parts[1]); err != nil {
		return Tag{}, fmt.Errorf("invalid TPE release name %q: minor %q is not a number", s, parts[1])
	}
	p := parts[2]
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i == 0 {
		return Tag{}, fmt.Errorf("invalid TPE release name %q: patch %q is not a number", s, p)
	}
	if t.Patch, err = strconv.Atoi(p[:i]); err != nil {
		return Tag{}, fmt.Errorf("invalid TPE release name %q: patch %q is not a number", s, p[:i])
	}
	t.Hotfix = p[i:]
	for _, c := range t.Hotfix {
		if c < 'a' || c > 'z' {
			return Tag{}, fmt.Errorf("invalid TPE release name %q: hotfix suffix %q must be lower-case letters", s, t.Hotfix)
		}
	}
	return t, nil
}

// atoiDigits parses a non-negative decimal number made of digits only (no sign, no spaces).
func atoiDigits(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return strconv.Atoi(s)
}

// MustParseTag parses a tag known to be valid.
func MustParseTag(s string) Tag {
	t, err := ParseTag(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Less orders tags.
func (t Tag) Less(o Tag) bool {
	if t.Major != o.Major {
		return t.Major < o.Major
	}
	if t.Minor != o.Minor {
		return t.Minor < o.Minor
	}
	if t.Patch != o.Patch {
		return t.Patch < o.Patch
	}
	if len(t.Hotfix) != len(o.Hotfix) {
		return len(t.Hotfix) < len(o.Hotfix)
	}
	return t.Hotfix < o.Hotfix
}

// String formats the tag.
func (t Tag) String() string { return fmt.Sprintf("v%d.%d.%d%s", t.Major, t.Minor, t.Patch, t.Hotfix) }

// Line is "major.minor".
func (t Tag) Line() string { return fmt.Sprintf("%d.%d", t.Major, t.Minor) }

// Where says where r's files are in the vendor's configuration repository, for messages: "tag
// v7.3.1", or for an untagged release "commit f6efc6fb2b90 (v7.3.0 has no tag)".
func (r Release) Where() string {
	switch ref := r.ConfigRef(); {
	case r.Tagged:
		return "tag " + r.Name
	case r.Commit != "":
		return fmt.Sprintf("commit %s (%s has no tag)", shortCommit(r.Commit), r.Name)
	case ref != "":
		return fmt.Sprintf("branch %s (%s has no tag)", ref, r.Name)
	}
	return "the VERSIONS file of " + r.Name
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// ConfigRef is the ref of the vendor's configuration repository that holds r's files: its tag,
// else its commit (the untagged 7.x releases, 8.0.0 on main), else its branch. Empty for a release
// known only from a VERSIONS file.
func (r Release) ConfigRef() string {
	switch {
	case r.Tagged:
		return r.Name
	case r.Commit != "":
		return r.Commit
	}
	return r.Ref
}
