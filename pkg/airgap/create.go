// Package airgap is the connected half of an install or upgrade at a site without internet access:
// `helm tpe bundle create` (Create) reads the vendor's chart repository and configuration
// repository once, on a machine that reaches them, and writes one release bundle (pkg/bundle) that
// `helm tpe plan|install|upgrade --bundle` use with no repository access at all.
package airgap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// Samples are the vendor's customization samples a bundle carries for its target release: the
// values files the TPE upgrade procedure starts from.
var Samples = []string{
	"examples/customization/values-data-stack.yaml",
	"examples/customization/values-thingpark-stack.yaml",
	"examples/selectors/values-selectors.yaml",
	"examples/priority-class/values-default-priority-class.yaml",
	"examples/hosting/amazon/values-lb.yaml", "examples/hosting/amazon/values-storage.yaml",
	"examples/hosting/azure/values-lb.yaml", "examples/hosting/azure/values-storage.yaml",
	"examples/hosting/google/values-lb.yaml", "examples/hosting/google/values-storage.yaml",
}

// Downloader downloads packed charts (*charts.Repo).
type Downloader interface {
	Download(name, version string) ([]byte, error)
}

// Deps are where Create reads from.
type Deps struct {
	// Charts is the chart repository, read with the installation ID; ChartRepository its URL.
	Charts          Downloader
	ChartRepository string
	// Config is the vendor's configuration repository (release files, cluster-admin manifests).
	Config catalog.Config
	// Images returns the images a release's charts render with the values.
	Images func(ctx context.Context, rel manifest.Release, src charts.Source, vals map[string]any) ([]string, error)
	// Progress receives one line per step (nil: none).
	Progress bundle.Progress
	// Layout pulls the images of the bundle's releases (m.Images()) and returns the files and
	// streamed blobs of the bundle's OCI image layout, having set m.Layout; nil: the bundle
	// carries the image list alone.
	Layout func(ctx context.Context, m *bundle.Manifest) ([]bundle.File, []bundle.Blob, error)
}

// Config is what the user asked for.
type Config struct {
	Matrix *manifest.Matrix
	// From is the release the site runs (nil: a fresh install of To).
	From *manifest.Release
	To   manifest.Release
	// Values are the operator's values (images are rendered with them); Redactor is the command's
	// one redactor: its secrets (the installation ID, the values' credentials) are masked in every
	// message and must never be written into the bundle.
	Values   map[string]any
	Redactor *redact.Redactor
	// CreatedBy and Host go into bundle.json; Now defaults to time.Now.
	CreatedBy string
	Host      string
	Now       func() time.Time
	// Sign, when set, signs the bundle's bundle.json and SHA256SUMS as it is written
	// (bundle.WriteSigned).
	Sign bundle.Signer
}

// Result is a written bundle.
type Result struct {
	Manifest *bundle.Manifest `json:"manifest"`
	// Digest is the sha256 of the whole file, to compare after carrying it; Size its size.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Create writes to w the bundle of the path from cfg.From to cfg.To: the four charts of each hop's
// target, their VERSIONS, the vendor's container-manifest.txt where published, the images the
// charts render with the values, and the cluster-admin manifests the hops name. What the vendor
// does not publish (a 404) is recorded in the bundle as missing, not an error; a chart that cannot be
// downloaded, or a configuration repository that cannot be read (ConfigError), is an error.
func Create(ctx context.Context, d Deps, cfg Config, w io.Writer) (*Result, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hops, err := cfg.Matrix.Path(cfg.From, cfg.To)
	if err != nil {
		return nil, err
	}
	if len(hops) == 0 {
		return nil, fmt.Errorf("nothing to bundle: %s already runs the charts of %s", cfg.From.Name, cfg.To.Name)
	}
	red := cfg.Redactor
	m := &bundle.Manifest{Created: cfg.Now().UTC().Truncate(time.Second), CreatedBy: cfg.CreatedBy, Host: cfg.Host,
		ChartRepository: d.ChartRepository, ConfigRepository: d.Config.RawBase, To: cfg.To.Name}
	if cfg.From != nil {
		m.From = cfg.From.Name
	}
	var files []bundle.File
	downloaded := map[string][]byte{} // "chart version" → the packed chart
	src := &charts.Packed{Where: "bundle create", Get: func(name, version string) ([]byte, error) {
		data, ok := downloaded[name+" "+version]
		if !ok {
			return nil, fmt.Errorf("chart %s %s was not downloaded", name, version)
		}
		return data, nil
	}}
	step, steps := 0, 0
	for _, h := range hops {
		steps += len(h.To.Charts()) + 1
	}
	// The configuration repository is read file by file. A 404 is a file the vendor does not
	// publish (recorded as missing); any other failure (down, unreachable, blocked) means the
	// bundle would silently lack what the vendor does publish: Create stops with ConfigError.
	fetch := func(ref, path string) ([]byte, string, error) {
		data, u, err := catalog.FetchFile(ctx, d.Config, ref, path)
		if err != nil && !errors.Is(err, catalog.ErrNotPublished) {
			if ctx.Err() != nil {
				return nil, u, ctx.Err()
			}
			return nil, u, &ConfigError{Base: d.Config.RawBase, Path: path, Err: red.Error(err)}
		}
		return data, u, err
	}
	var cfgErr *ConfigError
	say := func(format string, a ...any) {
		if d.Progress != nil {
			d.Progress(format, a...)
		}
	}
	for _, h := range hops {
		rel := h.To
		br := bundle.Release{Release: rel, Versions: bundle.ReleasePath(rel.Name, "VERSIONS")}
		files = append(files, bundle.File{Path: br.Versions, Data: []byte(manifest.FormatVersions(rel))})
		for _, c := range rel.Charts() {
			step++
			key := c.Chart + " " + c.Version
			p := bundle.ChartPath(c.Chart, c.Version)
			data, seen := downloaded[key]
			if !seen {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if data, err = d.Charts.Download(c.Chart, c.Version); err != nil {
					return nil, red.Error(fmt.Errorf("chart %s %s of %s: %w", c.Chart, c.Version, rel.Name, err))
				}
				downloaded[key] = data
				files = append(files, bundle.File{Path: p, Data: data})
				say("[%d/%d] chart %s %s (%s): %s", step, steps, c.Chart, c.Version, rel.Name, bundle.Size(int64(len(data))))
			} else {
				say("[%d/%d] chart %s %s (%s): already in the bundle", step, steps, c.Chart, c.Version, rel.Name)
			}
			br.Charts = append(br.Charts, bundle.Chart{Name: c.Chart, Version: c.Version, File: p, Size: int64(len(data))})
		}
		step++
		if ref := rel.ConfigRef(); ref == "" {
			m.Missing = append(m.Missing, bundle.Missing{What: catalog.ContainerManifest + " of " + rel.Name,
				Reason: "the release is not a ref of the vendor's configuration repository"})
		} else if data, u, err := fetch(ref, catalog.ContainerManifest); errors.As(err, &cfgErr) || ctx.Err() != nil {
			return nil, err
		} else if err != nil {
			m.Missing = append(m.Missing, bundle.Missing{What: catalog.ContainerManifest + " of " + rel.Name, Reason: missingReason(u, err)})
		} else {
			br.VendorImages = bundle.ReleasePath(rel.Name, catalog.ContainerManifest)
			files = append(files, bundle.File{Path: br.VendorImages, Data: data})
		}
		if d.Images != nil {
			imgs, err := d.Images(ctx, rel, src, cfg.Values)
			if err != nil {
				return nil, red.Error(fmt.Errorf("rendering the images of %s: %w", rel.Name, err))
			}
			br.Images = imgs
		}
		if rel.Name == cfg.To.Name && rel.ConfigRef() != "" {
			for _, sp := range Samples {
				data, _, err := fetch(rel.ConfigRef(), sp)
				if errors.As(err, &cfgErr) || ctx.Err() != nil {
					return nil, err
				}
				if err != nil {
					continue // a sample the vendor does not publish for this release (e.g. a hosting added later)
				}
				p := bundle.ReleasePath(rel.Name, sp)
				files = append(files, bundle.File{Path: p, Data: data})
				br.Samples = append(br.Samples, p)
			}
		}
		say("[%d/%d] %s: %d image(s) rendered with your values, vendor image list %s, %d customization sample(s)", step, steps, rel.Name, len(br.Images), orNot(br.VendorImages), len(br.Samples))
		m.Releases = append(m.Releases, br)

		for _, s := range manifest.AdminSteps(h) {
			for _, f := range s.Files {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				p := bundle.AdminPath(rel.Name, f)
				if has(files, p) {
					continue
				}
				data, u, err := fetch(rel.ConfigRef(), f)
				if errors.As(err, &cfgErr) || ctx.Err() != nil {
					return nil, err
				}
				if err != nil {
					m.Missing = append(m.Missing, bundle.Missing{What: fmt.Sprintf("%s (cluster-admin step %s of the hop to %s)", f, s.ID, rel.Name), Reason: missingReason(u, err)})
					continue
				}
				files = append(files, bundle.File{Path: p, Data: data})
				m.Admin = append(m.Admin, bundle.AdminFile{Hop: rel.Name, Step: s.ID, Source: f, File: p})
				say("       admin %s (%s): %s", f, rel.Name, bundle.Size(int64(len(data))))
			}
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var blobs []bundle.Blob
	if d.Layout != nil {
		lf, lb, err := d.Layout(ctx, m)
		if err != nil {
			return nil, red.Error(err)
		}
		files, blobs = append(files, lf...), lb
	}
	written, err := bundle.WriteBlobs(w, m, files, blobs, red.Secrets(), nil, cfg.Sign)
	if err != nil {
		return nil, err
	}
	return &Result{Manifest: m, Digest: written.Digest, Size: written.Size}, nil
}

// ConfigError is the vendor's configuration repository failing other than with a 404 (down,
// unreachable, blocked by a proxy): the bundle is not written, as it would lack the vendor's image
// lists and cluster-admin manifests without the vendor having left them out.
type ConfigError struct {
	// Base is the repository's raw URL, Path the file being read.
	Base, Path string
	Err        error
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("the vendor's configuration repository %s cannot be read (%s: %v): the bundle would lack the vendor's image lists and cluster-admin manifests, so none was written", e.Base, e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

func has(files []bundle.File, p string) bool {
	for _, f := range files {
		if f.Path == p {
			return true
		}
	}
	return false
}

func orNot(p string) string {
	if p == "" {
		return "not published"
	}
	return "included"
}

func missingReason(u string, err error) string {
	if errors.Is(err, catalog.ErrNotPublished) {
		return "not published by the vendor at " + u
	}
	return err.Error()
}
