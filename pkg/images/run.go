package images

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Deps are where Run reads the charts and the vendor's list.
type Deps struct {
	// Charts opens the chart repository or the release bundle once the values are loaded (the
	// installation ID may be in them); not called with Config.ChartDir.
	Charts func(values.Values) (charts.Source, error)
	// FetchVendor reads a file of the vendor's configuration repository at ref, and its URL (nil:
	// catalog.FetchFile with catalog.ConfigFromEnv).
	FetchVendor func(ctx context.Context, ref, file string) ([]byte, string, error)
}

// RunConfig is what the user asked the images of.
type RunConfig struct {
	Release    manifest.Release
	ValueFiles []string
	Namespace  string
	// Registry is the mirror (HOST or HOST/PATH) the images should come from ("": none).
	Registry string
	// ChartDir is a directory holding the release's charts, instead of Deps.Charts.
	ChartDir string
	// Bundle is the release bundle the charts come from (Deps.Charts opens it); its copy of the
	// vendor's list is compared, and BundlePath names it.
	Bundle     *bundle.Bundle
	BundlePath string
	// VendorFile is the vendor's list to compare with, read from this file; NoVendor compares with
	// none and reads nothing. Otherwise the list is read from the bundle, else from the vendor's
	// configuration repository within VendorTimeout (best effort: Outcome.VendorNote).
	VendorFile    string
	NoVendor      bool
	VendorTimeout time.Duration
}

// Outcome is the images of a release and why they were not compared with the vendor's list.
type Outcome struct {
	Report *Report
	// Values are the values files as loaded (the caller hides their secrets from its output).
	Values values.Values
	// VendorNote says why the images are not compared with the vendor's list ("" when they are,
	// or with NoVendor); VendorElsewhere says that the list could be given as a file, or the
	// comparison skipped.
	VendorNote      string
	VendorElsewhere bool
}

// VendorFileError is a vendor's list (RunConfig.VendorFile) that cannot be read.
type VendorFileError struct{ Err error }

func (e *VendorFileError) Error() string { return e.Err.Error() }
func (e *VendorFileError) Unwrap() error { return e.Err }

// Run is the images use case: it loads the values, opens the charts, reads the vendor's list and
// lists the images (List). Nothing is read from or written to a cluster.
func Run(ctx context.Context, d Deps, cfg RunConfig) (*Outcome, error) {
	vals, err := values.LoadContext(ctx, cfg.ValueFiles)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Values: vals}
	lc := Config{Release: cfg.Release, Values: vals, Namespace: cfg.Namespace, Registry: cfg.Registry}
	if cfg.ChartDir != "" {
		lc.Charts = &charts.Dir{Path: cfg.ChartDir}
	} else if lc.Charts, err = d.Charts(vals); err != nil {
		return nil, err
	}
	if lc.Vendor, lc.VendorSource, err = vendorList(ctx, d, cfg, out); err != nil {
		return nil, err
	}
	if out.Report, err = List(ctx, lc); err != nil {
		return nil, err
	}
	return out, nil
}

// vendorList reads the vendor's list: none with NoVendor, else VendorFile (an error when it
// cannot be read), else the bundle's copy, else the vendor's configuration repository at the
// release's ref (best effort: a note, and nil).
func vendorList(ctx context.Context, d Deps, cfg RunConfig, out *Outcome) ([]string, string, error) {
	rel := cfg.Release
	switch {
	case cfg.NoVendor:
		return nil, "", nil
	case cfg.VendorFile != "":
		data, err := input.ReadFile(ctx, input.ImageList, cfg.VendorFile)
		if err != nil {
			return nil, "", &VendorFileError{Err: err}
		}
		return ParseContainerManifest(data), cfg.VendorFile, nil
	case cfg.Bundle != nil:
		if br, ok := cfg.Bundle.Manifest.Release(rel.Name); ok && br.VendorImages != "" {
			if data, ok := cfg.Bundle.File(br.VendorImages); ok {
				return ParseContainerManifest(data), cfg.BundlePath + ":" + br.VendorImages, nil
			}
		}
		out.VendorNote = fmt.Sprintf("the bundle holds no %s for %s: the images are not compared with the vendor's list", catalog.ContainerManifest, rel.Name)
		return nil, "", nil
	}
	ref := rel.ConfigRef()
	if ref == "" {
		out.VendorNote = fmt.Sprintf("%s is not a release of the vendor's configuration repository: the images are not compared with a %s", rel.Name, catalog.ContainerManifest)
		out.VendorElsewhere = true
		return nil, "", nil
	}
	fetch := d.FetchVendor
	if fetch == nil {
		fetch = func(ctx context.Context, ref, file string) ([]byte, string, error) {
			return catalog.FetchFile(ctx, catalog.ConfigFromEnv(), ref, file)
		}
	}
	if cfg.VendorTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.VendorTimeout)
		defer cancel()
	}
	data, url, err := fetch(ctx, ref, catalog.ContainerManifest)
	switch {
	case errors.Is(err, catalog.ErrNotPublished):
		out.VendorNote = fmt.Sprintf("the vendor publishes no %s for %s (%s): the images are not compared with the vendor's list", catalog.ContainerManifest, rel.Name, url)
		return nil, "", nil
	case err != nil:
		out.VendorNote = fmt.Sprintf("the vendor's %s of %s cannot be read (%v): the images are not compared with it", catalog.ContainerManifest, rel.Name, err)
		out.VendorElsewhere = true
		return nil, "", nil
	}
	return ParseContainerManifest(data), url, nil
}
