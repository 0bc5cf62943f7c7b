package charts

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// Dir is a directory of charts, packed (name-version.tgz, as `helm pull` saves them) or unpacked
// (a directory with a Chart.yaml, as `helm pull --untar` leaves them): the charts of a plan made
// where the chart repository cannot be reached. Charts are found by the name and version of
// their Chart.yaml, not by their file names.
type Dir struct {
	Path string

	found  map[string]string       // "name version" → file or directory, read on first use
	loaded map[string]*chart.Chart // "name version" → the archives scan has loaded already
}

// LoadChart loads the chart name at version from the directory.
func (d *Dir) LoadChart(name, version string) (*chart.Chart, error) {
	if d.found == nil {
		if err := d.scan(); err != nil {
			return nil, err
		}
	}
	path, ok := d.found[name+" "+version]
	if !ok {
		var have []string
		for k := range d.found {
			have = append(have, strings.Replace(k, " ", "-", 1))
		}
		sort.Strings(have)
		holds := "no chart"
		if len(have) > 0 {
			holds = strings.Join(have, ", ")
		}
		return nil, fmt.Errorf("chart %s %s is not in %s (it holds %s)", name, version, d.Path, holds)
	}
	if c, ok := d.loaded[name+" "+version]; ok {
		return c, nil
	}
	c, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s %s from %s: %w", name, version, path, err)
	}
	return c, nil
}

// scan reads the name and version of every chart of the directory.
func (d *Dir) scan() error {
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		return fmt.Errorf("reading the chart directory: %w", err)
	}
	d.found, d.loaded = map[string]string{}, map[string]*chart.Chart{}
	for _, e := range entries {
		p := filepath.Join(d.Path, e.Name())
		var md *chart.Metadata
		switch {
		case e.IsDir():
			cf, err := chartutil.LoadChartfile(filepath.Join(p, chartutil.ChartfileName))
			if err != nil {
				continue // not a chart
			}
			md = cf
		case strings.HasSuffix(e.Name(), ".tgz") || strings.HasSuffix(e.Name(), ".tar.gz"):
			c, err := loader.LoadFile(p)
			if err != nil {
				return fmt.Errorf("loading chart archive %s: %w", p, err)
			}
			md = c.Metadata
			if md != nil {
				d.loaded[md.Name+" "+md.Version] = c
			}
		default:
			continue
		}
		if md != nil && md.Name != "" {
			d.found[md.Name+" "+md.Version] = p
		}
	}
	return nil
}
