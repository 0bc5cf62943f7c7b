// Package images lists the container images a TPE release runs, as the vendor derives its
// container-manifest.txt: every value of a key named "image" in the objects the four charts render
// (client-only, as `helm template`). For an air-gapped installation it finds the values keys that
// make the images come from a registry mirror, and checks them by rendering again; and it compares
// the list with the vendor's. Errors never hold the installation ID or the values' other secrets.
package images

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// PlaceholderInstallationID is the installation ID the charts are rendered with when the values
// set none, as the vendor renders them to derive its image list.
const PlaceholderInstallationID = "00000000000000000000000000000000"

// Config is what List renders.
type Config struct {
	Release manifest.Release
	// Charts is where the four charts come from (the repository, a directory).
	Charts charts.Source
	// Values are the user's merged values (-f); may be empty.
	Values    map[string]any
	Namespace string
	// Registry is the mirror (HOST or HOST/PATH) the images should come from; "" asks for no
	// redirection.
	Registry string
	// Vendor is the vendor's list (container-manifest.txt); nil when unknown.
	Vendor []string
	// VendorSource says where Vendor came from (a URL or a file).
	VendorSource string
}

// Image is one image the release renders.
type Image struct {
	Image string `json:"image"`
	// Charts are the charts that render it.
	Charts []string `json:"charts"`
	// Objects are the objects ("Kind/name") that hold it.
	Objects []string `json:"objects,omitempty"`
}

// Key is one values key to set so that images come from the mirror.
type Key struct {
	Chart string `json:"chart"`
	// Key is the dotted values path.
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Report is the images of a release.
type Report struct {
	Release string  `json:"release"`
	Images  []Image `json:"images"`
	// Registry is the mirror asked for, Keys the values that redirect the images to it, checked by
	// rendering again; NotRedirected the images that still do not come from it with Keys set.
	Registry      string   `json:"registry,omitempty"`
	Keys          []Key    `json:"keys,omitempty"`
	NotRedirected []string `json:"notRedirected,omitempty"`
	// Vendor compares Images with the vendor's list, when it is known.
	Vendor *Comparison `json:"vendor,omitempty"`
}

// Comparison is the rendered images against the vendor's container-manifest.txt.
type Comparison struct {
	Source       string   `json:"source"`
	OnlyRendered []string `json:"onlyRendered,omitempty"`
	OnlyVendor   []string `json:"onlyVendor,omitempty"`
	Same         bool     `json:"same"`
}

// Names returns the images of the report, sorted.
func (r *Report) Names() []string {
	out := make([]string, 0, len(r.Images))
	for _, i := range r.Images {
		out = append(out, i.Image)
	}
	return out
}

// KeysValues returns Keys as one values tree (the user's values are given to every chart).
func (r *Report) KeysValues() map[string]any {
	out := map[string]any{}
	for _, k := range r.Keys {
		setPath(out, strings.Split(k.Key, "."), k.Value)
	}
	return out
}

// loaded is one chart of the release, loaded and rendered.
type loaded struct {
	ref    manifest.ChartRef
	chart  *chart.Chart
	images map[string][]string
}

// List renders the four charts of the release with the values and lists their images; with a
// Registry, the keys that redirect them, checked by a second render; with Vendor, the comparison.
func List(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Charts == nil {
		return nil, fmt.Errorf("no chart source")
	}
	red := redact.New(redact.Strings(redact.FromValues(cfg.Values))...)
	vals := copyTree(cfg.Values)
	if values.Values(vals).InstallationID() == "" {
		setPath(vals, []string{"global", "installationId"}, PlaceholderInstallationID)
	}
	rep := &Report{Release: cfg.Release.Name, Images: []Image{}}
	var all []loaded
	for _, c := range cfg.Release.Charts() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.Version == "" {
			continue
		}
		ch, err := cfg.Charts.LoadChart(c.Chart, c.Version)
		if err != nil {
			return nil, red.Error(err)
		}
		imgs, err := render(ch, c, cfg.Namespace, vals)
		if err != nil {
			return nil, red.Error(err)
		}
		all = append(all, loaded{ref: c, chart: ch, images: imgs})
	}
	rep.Images = merge(all)
	if cfg.Registry != "" {
		rep.Registry = strings.TrimSuffix(cfg.Registry, "/")
		if err := redirect(ctx, rep, all, vals, cfg.Namespace); err != nil {
			return nil, red.Error(err)
		}
	}
	if err := noSecrets(rep, red); err != nil {
		return nil, err
	}
	if cfg.Vendor != nil {
		rep.Vendor = Compare(rep.Names(), cfg.Vendor, cfg.VendorSource)
	}
	return rep, nil
}

// SecretInImageError is a list of images some of whose references hold a secret of the values
// (the installation ID in a registry host name): an image list is shared (mirroring scripts, a
// release bundle, a ticket), so it is neither printed nor carried. Images are the references,
// the secret masked.
type SecretInImageError struct {
	Count  int
	Images []string
}

// Error implements error.
func (e *SecretInImageError) Error() string {
	return fmt.Sprintf("%d image reference(s) hold a secret of the values, such as the installation ID in a registry host name (%s): "+
		"an image list is copied into mirroring scripts, release bundles and tickets and must hold none; use a registry host name without it",
		e.Count, strings.Join(e.Images, ", "))
}

// noSecrets is the one rule for every list of images (helm tpe images, a release bundle): no
// reference, redirecting key or mirror holds a secret of the values.
func noSecrets(rep *Report, red *redact.Redactor) error {
	var bad []string
	refs := append(append(rep.Names(), rep.NotRedirected...), rep.Registry)
	for _, k := range rep.Keys {
		refs = append(refs, k.Value)
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if red.Holds(r) && !seen[r] {
			seen[r] = true
			bad = append(bad, red.String(r))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	n := len(bad)
	if n > 3 {
		bad = append(bad[:3], fmt.Sprintf("and %d more", n-3))
	}
	return &SecretInImageError{Count: n, Images: bad}
}

func render(ch *chart.Chart, c manifest.ChartRef, namespace string, vals map[string]any) (map[string][]string, error) {
	out, err := charts.Render(ch, c.ReleaseName, namespace, vals)
	if err != nil {
		return nil, err
	}
	imgs, err := FromManifest(out)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", c.Chart, c.Version, err)
	}
	return imgs, nil
}

// merge lists the images of the charts, sorted, each with its charts and objects.
func merge(all []loaded) []Image {
	byImage := map[string]*Image{}
	for _, l := range all {
		for image, objs := range l.images {
			i := byImage[image]
			if i == nil {
				i = &Image{Image: image}
				byImage[image] = i
			}
			i.Charts = appendUnique(i.Charts, l.ref.Chart)
			for _, o := range objs {
				i.Objects = appendUnique(i.Objects, o)
			}
		}
	}
	out := make([]Image, 0, len(byImage))
	for _, i := range byImage {
		sort.Strings(i.Objects)
		out = append(out, *i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Image < out[b].Image })
	return out
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// redirect proposes the keys of every chart, renders every chart again with the user's values
// and all the keys (one values set is given to every chart), keeps the keys that redirected at
// least one of their images and lists the images still not from the mirror.
func redirect(ctx context.Context, rep *Report, all []loaded, vals map[string]any, namespace string) error {
	mirror := rep.Registry
	var props []*proposal
	keys := map[string]any{}
	for _, l := range all {
		imgs := make([]string, 0, len(l.images))
		for image := range l.images {
			if !strings.HasPrefix(image, mirror+"/") {
				imgs = append(imgs, image)
			}
		}
		sort.Strings(imgs)
		ps, err := propose(l.ref.Chart, l.chart, vals, imgs, mirror)
		if err != nil {
			return fmt.Errorf("chart %s %s: reading its values: %w", l.ref.Chart, l.ref.Version, err)
		}
		for _, p := range ps {
			if cur, ok := getPath(keys, p.path); ok && cur != p.value {
				continue // another chart needs another value at this key: the first is kept
			}
			setPath(keys, p.path, p.value)
			props = append(props, p)
		}
	}
	with := copyTree(vals)
	for _, p := range props {
		setPath(with, p.path, p.value)
	}
	after := map[string]map[string][]string{}
	notRedirected := map[string]bool{}
	for _, l := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		imgs, err := render(l.chart, l.ref, namespace, with)
		if err != nil {
			return fmt.Errorf("checking the registry keys: %w", err)
		}
		after[l.ref.Chart] = imgs
		for image := range imgs {
			if !strings.HasPrefix(image, mirror+"/") {
				notRedirected[image] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range props {
		useful := false
		for image := range p.images {
			if _, still := after[p.chart][image]; !still {
				useful = true
			}
		}
		if useful && !seen[p.chart+" "+p.key()] {
			seen[p.chart+" "+p.key()] = true
			rep.Keys = append(rep.Keys, Key{Chart: p.chart, Key: p.key(), Value: p.value})
		}
	}
	if len(notRedirected) > 0 {
		rep.NotRedirected = sortedKeys(notRedirected)
	}
	return nil
}

// Compare compares rendered images with the vendor's list.
func Compare(rendered, vendor []string, source string) *Comparison {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	r, v := in(rendered), in(vendor)
	c := &Comparison{Source: source}
	for s := range r {
		if !v[s] {
			c.OnlyRendered = append(c.OnlyRendered, s)
		}
	}
	for s := range v {
		if !r[s] {
			c.OnlyVendor = append(c.OnlyVendor, s)
		}
	}
	sort.Strings(c.OnlyRendered)
	sort.Strings(c.OnlyVendor)
	c.Same = len(c.OnlyRendered) == 0 && len(c.OnlyVendor) == 0
	return c
}
