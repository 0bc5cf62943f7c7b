// Package bundle is the release bundle: one .tar.gz that carries into a site without internet
// access everything an install or upgrade to a TPE release needs, built on a machine that reaches
// the vendor. It holds the four charts of every release on the path, the release manifests
// (VERSIONS), the vendor's image list of each release (container-manifest.txt) where published, the
// images the charts render with the operator's values, the cluster-admin manifests the hops name,
// bundle.json (what, when, from where) and SHA256SUMS (every other file, `sha256sum -c` format),
// and, when it is signed, signature.sigstore.json (sign.go; package bundlesign makes and checks it).
//
// This package writes (write.go, file.go), reads and verifies (read.go) the file; it imports no Helm package, so kubectl-tpe can
// read a bundle too. It never holds the installation ID: Write refuses content that contains one
// of the secrets it is given.
package bundle

import (
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Format is the format version written in bundle.json.
const Format = "helm-tpe/bundle/v1"

// Names of the two files every bundle has.
const (
	ManifestFile = "bundle.json"
	SumsFile     = "SHA256SUMS"
)

// Manifest is bundle.json.
type Manifest struct {
	Format    string    `json:"format"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy"`
	// Host is the machine it was built on.
	Host string `json:"host,omitempty"`
	// ChartRepository and ConfigRepository are where the charts and the vendor's files were read
	// (URLs without credentials).
	ChartRepository  string `json:"chartRepository"`
	ConfigRepository string `json:"configRepository,omitempty"`
	// From is the release the path starts from ("" for a fresh install); To the target.
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// Releases are the releases the bundle can install, in path order (each hop's target).
	Releases []Release `json:"releases"`
	// Admin is the cluster-admin material of the hops.
	Admin []AdminFile `json:"admin,omitempty"`
	// Missing is what the bundle could not include, and why.
	Missing []Missing `json:"missing,omitempty"`
	// Layout lists the images the bundle carries in its OCI image layout (nil: none).
	Layout *Layout `json:"imageLayout,omitempty"`
}

// Release is one release of the bundle.
type Release struct {
	Release manifest.Release `json:"release"`
	// Versions is the path of its VERSIONS file in the bundle.
	Versions string `json:"versions"`
	// Charts are its four charts.
	Charts []Chart `json:"charts"`
	// VendorImages is the path of the vendor's container-manifest.txt ("" when not published).
	VendorImages string `json:"vendorImages,omitempty"`
	// Images are the images the charts render with the values the bundle was built with.
	Images []string `json:"images"`
	// Samples are the vendor's customization samples of the target release (values files to
	// start from), as paths in the bundle.
	Samples []string `json:"samples,omitempty"`
}

// Chart is one packed chart of the bundle.
type Chart struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	File    string `json:"file"`
	Size    int64  `json:"size"`
}

// AdminFile is a manifest of the vendor's configuration repository that a cluster-admin step of
// a hop applies (CRDs, RBAC).
type AdminFile struct {
	// Hop is the release the hop goes to; Step the admin step's id.
	Hop  string `json:"hop"`
	Step string `json:"step"`
	// Source is its path in the vendor's configuration repository; File its path in the bundle.
	Source string `json:"source"`
	File   string `json:"file"`
}

// Missing is something the bundle does not hold.
type Missing struct {
	What   string `json:"what"`
	Reason string `json:"reason"`
}

// ChartPath is where a chart is stored in a bundle.
func ChartPath(name, version string) string { return "charts/" + name + "-" + version + ".tgz" }

// ReleasePath is where a file of a release is stored in a bundle.
func ReleasePath(release, file string) string { return "releases/" + release + "/" + file }

// AdminPath is where a cluster-admin manifest of the hop into release is stored.
func AdminPath(release, source string) string { return "admin/" + release + "/" + path.Base(source) }

// Release returns the release named name (a tag or an alias), or false.
func (m *Manifest) Release(name string) (Release, bool) {
	for _, r := range m.Releases {
		if r.Release.Name == name || sameTag(r.Release.Name, name) {
			return r, true
		}
		for _, a := range r.Release.Aliases {
			if a == name {
				return r, true
			}
		}
	}
	return Release{}, false
}

func sameTag(a, b string) bool {
	ta, err1 := manifest.ParseTag(a)
	tb, err2 := manifest.ParseTag(b)
	return err1 == nil && err2 == nil && ta == tb
}

// Images returns every image of every release, sorted, once.
func (m *Manifest) Images() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range m.Releases {
		for _, i := range r.Images {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ReleaseNames names the releases in path order.
func (m *Manifest) ReleaseNames() []string {
	var out []string
	for _, r := range m.Releases {
		out = append(out, r.Release.Name)
	}
	return out
}

// Lacks returns, for each release given, the charts of it the bundle does not hold ("chart
// version (release)"): what a path needs and the bundle cannot give.
func (b *Bundle) Lacks(releases ...manifest.Release) []string {
	have := map[string]bool{}
	for _, r := range b.Manifest.Releases {
		for _, c := range r.Charts {
			have[c.Name+" "+c.Version] = true
		}
	}
	var out []string
	for _, rel := range releases {
		for _, c := range rel.Charts() {
			if !have[c.Chart+" "+c.Version] {
				out = append(out, fmt.Sprintf("%s %s (%s)", c.Chart, c.Version, rel.Name))
			}
		}
	}
	return out
}

// Size formats a byte count as people read it (12.3 MiB).
func Size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Request completes a release request with the bundle (file names it): the matrix learns the
// bundle's releases it does not know (a release the bundle's builder learned with a refresh), so
// that a site without access to the configuration repository can plan them, and the bundle's
// target is the default release.
func (m *Manifest) Request(req manifest.Request, file string) manifest.Request {
	for _, r := range m.Releases {
		req.Added = append(req.Added, r.Release)
	}
	req.AddedFrom = "bundle " + file
	req.Default = m.To
	return req
}
