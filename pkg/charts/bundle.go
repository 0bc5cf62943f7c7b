package charts

import (
	"bytes"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Repository is where an install, an upgrade or a plan takes the charts from: the chart
// repository (*Repo) or a release bundle (*BundleSource).
type Repository interface {
	Source
	// CheckCharts verifies that every chart of the releases can be loaded.
	CheckCharts(releases ...manifest.Release) error
	// InstallationID is the repository's password, removed from every message ("" for a bundle).
	InstallationID() string
}

// Packed loads packed charts (.tgz bytes) that Get returns, each once: the charts of a release
// bundle, or those `bundle create` has downloaded. Where names them in errors.
type Packed struct {
	Get    func(name, version string) ([]byte, error)
	Where  string
	loaded map[string]*chart.Chart
}

// LoadChart loads a chart that Get returns.
func (p *Packed) LoadChart(name, version string) (*chart.Chart, error) {
	if c, ok := p.loaded[name+" "+version]; ok {
		return c, nil
	}
	data, err := p.Get(name, version)
	if err != nil {
		return nil, err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: loading chart %s %s: %w", p.Where, name, version, err)
	}
	if p.loaded == nil {
		p.loaded = map[string]*chart.Chart{}
	}
	p.loaded[name+" "+version] = c
	return c, nil
}

// BundleSource takes the charts from a release bundle (`--bundle`): no repository is contacted.
type BundleSource struct {
	Bundle *bundle.Bundle
	*Packed
}

// NewBundleSource returns the chart source of a verified bundle.
func NewBundleSource(b *bundle.Bundle) *BundleSource {
	return &BundleSource{Bundle: b, Packed: &Packed{Get: b.Chart, Where: "bundle " + b.Path}}
}

// CheckCharts verifies that the bundle holds every chart of the releases; the error names what is
// missing.
func (s *BundleSource) CheckCharts(releases ...manifest.Release) error {
	if lacks := s.Bundle.Lacks(releases...); len(lacks) > 0 {
		return &RepoError{Kind: "missing-charts", Msg: fmt.Sprintf("bundle %s lacks %s (it holds %s): build a bundle for this path on a connected machine (`{cmd:bundle-create} {flag:from} FROM {flag:to} TO`)",
			s.Bundle.Path, strings.Join(lacks, ", "), strings.Join(s.Bundle.ReleaseNames(), ", "))}
	}
	return nil
}

// InstallationID is empty: a bundle holds none.
func (s *BundleSource) InstallationID() string { return "" }
