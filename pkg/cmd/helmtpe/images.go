package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/images"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// vendorFetchTimeout bounds the best-effort read of the vendor's list (an air-gapped host has no
// route to it, a proxy may hang: the list is a few KiB, so a short wait is enough). A variable for
// the tests.
var vendorFetchTimeout = 5 * time.Second

// noVendorManifest is the --vendor-manifest value that skips the vendor's list (no request).
const noVendorManifest = "none"

// ImagesOptions are the options of `helm tpe images`.
type ImagesOptions struct {
	Target         targetFlags
	Repo           repoFlags
	ValueFiles     []string
	Registry       string
	ChartDir       string
	VendorManifest string
	Output         string

	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// NewCmdImages builds `helm tpe images`.
func NewCmdImages(env *Env) *cobra.Command {
	o := &ImagesOptions{Output: "table", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "images --to RELEASE|--bundle FILE [-f VALUES]... [--registry HOST[/PATH]]",
		Short: "List the container images a TPE release runs, and the values that take them from a registry mirror",
		Long: templates.LongDesc(`
			List the container images of a TPE release with your values: the four charts are rendered
			without a cluster, as helm template does, and every value of a key named "image" in the
			objects is listed (containers, init containers, and the custom resources of the Kafka and
			MongoDB operators), as the vendor derives the container-manifest.txt of each release. The
			charts come from the repository added by helm tpe repo add, or from --chart-dir DIR (packed
			.tgz or unpacked, as helm pull leaves them), or from a release bundle with --bundle FILE (the
			target too, unless --to names another release of the bundle). Nothing is read from or
			written to a cluster.

			The images are printed one per line on stdout, ready for a script that copies them into a
			registry mirror. The list is compared with the vendor's container-manifest.txt of the release,
			read from the vendor's configuration repository (from the bundle with --bundle, or from
			--vendor-manifest FILE); when it cannot be read within 5 seconds, a note says so and nothing is
			compared. --vendor-manifest none skips the comparison and makes no network request (an
			air-gapped host, a proxy that hangs).

			--registry HOST[/PATH] names the mirror of an air-gapped installation: the command looks in the
			charts' values for the keys that compose each image (a whole image reference, an image map's
			registry or repository, a registry host such as global.repositories.containerImagesRegistry.fqdn),
			renders the charts again with them to check that the images then come from the mirror, and
			prints the keys as a values snippet after the images. Images that no values key moves are
			listed as "cannot be redirected by values": mirror them under the same name, or ask the vendor.
			The mirror holds each image under its path without the original registry host, e.g.
			quay.io/strimzi/operator:0.33.2 as HOST/PATH/strimzi/operator:0.33.2.

			An image list is meant to be copied (mirroring scripts, release bundles, tickets): when an image
			reference would hold a secret of your values (the installation ID in a registry host name), it
			is not printed and the command fails, as "bundle create" does.

			Exit codes: 0 the images are listed (warnings go to stderr), 1 error.`),
		Example: templates.Examples(`
			# The images of 7.3.1 with your values, one per line
			helm tpe images --to v7.3.1 -f values-data-stack.yaml -f values-thingpark-stack.yaml

			# Pull them all
			helm tpe images --to v7.3.1 -f values.yaml | xargs -n1 docker pull

			# The values that take them from a mirror, and the images no values key moves
			helm tpe images --to v7.3.1 -f values.yaml --registry registry.example.com/tpe

			# From charts pulled beforehand, compared with a copy of the vendor's list, as JSON
			helm tpe images --to v7.3.1 --chart-dir ./charts --vendor-manifest container-manifest.txt -o json

			# From charts pulled beforehand, without reading the vendor's list (no network)
			helm tpe images --to v7.3.1 --chart-dir ./charts --vendor-manifest none

			# At a site without internet access: the charts and the vendor's list from a release bundle
			helm tpe images --bundle tpe-bundle-v7.3.1.tar.gz -f values.yaml --registry registry.example.com/tpe`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			rep, err := o.Run(cmd.Context(), offlineNamespace(o.env, cmd))
			if err != nil {
				return err
			}
			return o.write(rep)
		},
	}
	o.Target.add(cmd, false)
	o.Repo.add(cmd)
	o.Repo.addBundle(cmd)
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files to render the charts with (repeatable)")
	cmd.Flags().StringVar(&o.Registry, "registry", "", "registry mirror (HOST or HOST/PATH): find and check the values keys that take the images from it")
	cmd.Flags().StringVar(&o.ChartDir, "chart-dir", "", "directory holding the release's four charts (.tgz or unpacked) instead of the repository")
	cmd.Flags().StringVar(&o.VendorManifest, "vendor-manifest", "", "the vendor's container-manifest.txt of the release, read from this `FILE` instead of the vendor's configuration repository; \"none\" skips the comparison (no network request)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table (one image a line), json or yaml")
	return cmd
}

// Validate checks the flags.
func (o *ImagesOptions) Validate() error {
	if err := o.Repo.validateSource(&o.Target, o.ChartDir); err != nil {
		return err
	}
	if o.Registry != "" {
		var err error
		if o.Registry, err = checkRegistry(o.Registry); err != nil {
			return err
		}
	}
	return nil
}

// checkRegistry checks and cleans a --registry HOST[/PATH].
func checkRegistry(r string) (string, error) {
	r = strings.TrimSuffix(strings.TrimSpace(r), "/")
	switch {
	case strings.Contains(r, "://"):
		return "", fmt.Errorf("--registry %s: give the registry as HOST[/PATH], without a scheme", r)
	case r == "" || strings.ContainsAny(r, " \t@") || strings.HasPrefix(r, "/"):
		return "", fmt.Errorf("--registry %q is not a registry HOST[/PATH]", r)
	}
	return r, nil
}

// Run resolves the release, reads the values, the charts and the vendor's list, and lists the images.
func (o *ImagesOptions) Run(ctx context.Context, namespace string) (*images.Report, error) {
	_, rel, err := o.Repo.target(ctx, o.env, &o.Target, o.ErrOut)
	if err != nil {
		return nil, err
	}
	noteTo(o.ErrOut, o.Target.Note)
	vals, err := values.LoadContext(ctx, o.ValueFiles)
	if err != nil {
		return nil, err
	}
	hideValues(o.ErrOut, vals)
	cfg := images.Config{Release: rel, Values: vals, Namespace: namespace, Registry: o.Registry}
	if o.ChartDir != "" {
		cfg.Charts = &charts.Dir{Path: o.ChartDir}
	} else {
		repo, err := o.Repo.source(o.env, vals, o.In, o.ErrOut)
		if err != nil {
			return nil, err
		}
		cfg.Charts = repo
	}
	if cfg.Vendor, cfg.VendorSource, err = o.vendorList(ctx, rel); err != nil {
		return nil, err
	}
	return images.List(ctx, cfg)
}

// vendorList reads the vendor's list: none for --vendor-manifest none, else --vendor-manifest (an
// error when it cannot be read), else the bundle's copy with --bundle, else the vendor's
// configuration repository at the release's ref (best effort: a note, and nil).
func (o *ImagesOptions) vendorList(ctx context.Context, rel manifest.Release) ([]string, string, error) {
	if o.VendorManifest == noVendorManifest {
		return nil, "", nil
	}
	if o.VendorManifest != "" {
		data, err := readFlagFile(ctx, "--vendor-manifest", input.ImageList, o.VendorManifest)
		if err != nil {
			return nil, "", err
		}
		return images.ParseContainerManifest(data), o.VendorManifest, nil
	}
	if o.Repo.Bundle != "" {
		b, err := o.Repo.openBundle()
		if err != nil {
			return nil, "", err
		}
		if br, ok := b.Manifest.Release(rel.Name); ok && br.VendorImages != "" {
			if data, ok := b.File(br.VendorImages); ok {
				return images.ParseContainerManifest(data), o.Repo.Bundle + ":" + br.VendorImages, nil
			}
		}
		fmt.Fprintf(o.ErrOut, "note: the bundle holds no %s for %s: the images are not compared with the vendor's list\n", catalog.ContainerManifest, rel.Name)
		return nil, "", nil
	}
	ref := rel.ConfigRef()
	if ref == "" {
		fmt.Fprintf(o.ErrOut, "note: %s is not a release of the vendor's configuration repository: the images are not compared with a %s (pass --vendor-manifest FILE, or none to skip it)\n", rel.Name, catalog.ContainerManifest)
		return nil, "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, vendorFetchTimeout)
	defer cancel()
	data, url, err := catalog.FetchFile(ctx, catalog.ConfigFromEnv(), ref, catalog.ContainerManifest)
	switch {
	case errors.Is(err, catalog.ErrNotPublished):
		fmt.Fprintf(o.ErrOut, "note: the vendor publishes no %s for %s (%s): the images are not compared with the vendor's list\n", catalog.ContainerManifest, rel.Name, url)
		return nil, "", nil
	case err != nil:
		fmt.Fprintf(o.ErrOut, "note: the vendor's %s of %s cannot be read (%v): the images are not compared with it (pass --vendor-manifest FILE, or none to skip it)\n", catalog.ContainerManifest, rel.Name, err)
		return nil, "", nil
	}
	return images.ParseContainerManifest(data), url, nil
}

func (o *ImagesOptions) write(rep *images.Report) error {
	if o.format != cli.FormatTable {
		return cli.WriteData(o.Out, o.format, rep)
	}
	for _, i := range rep.Images {
		fmt.Fprintln(o.Out, i.Image)
	}
	if rep.Registry != "" {
		if err := writeKeys(o.Out, rep); err != nil {
			return err
		}
	}
	writeSummary(o.ErrOut, rep)
	return nil
}

// writeKeys prints the keys as a values snippet, under a heading that is a YAML comment.
func writeKeys(w io.Writer, rep *images.Report) error {
	fmt.Fprintf(w, "\n# Values that take the images of %s from %s: add them to your values files (-f)\n", rep.Release, rep.Registry)
	if len(rep.Keys) == 0 {
		fmt.Fprintln(w, "# (no values key of the charts moves these images)")
		return nil
	}
	for _, k := range rep.Keys {
		fmt.Fprintf(w, "#   %s (chart %s)\n", k.Key, k.Chart)
	}
	b, err := yaml.Marshal(rep.KeysValues())
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// writeSummary prints on stderr what the image list alone does not say.
func writeSummary(w io.Writer, rep *images.Report) {
	fmt.Fprintf(w, "%d images in the charts of %s\n", len(rep.Images), rep.Release)
	if n := len(rep.NotRedirected); n > 0 {
		fmt.Fprintf(w, "%d image(s) cannot be redirected by values: mirror it under the same name or ask the vendor:\n", n)
		for _, i := range rep.NotRedirected {
			fmt.Fprintf(w, "  %s\n", i)
		}
	}
	if c := rep.Vendor; c != nil {
		if c.Same {
			fmt.Fprintf(w, "The images are those of the vendor's %s (%s)\n", catalog.ContainerManifest, c.Source)
			return
		}
		fmt.Fprintf(w, "%d images differ from the vendor's %s (%s):\n", len(c.OnlyRendered)+len(c.OnlyVendor), catalog.ContainerManifest, c.Source)
		for _, i := range c.OnlyRendered {
			fmt.Fprintf(w, "  + %s (only rendered)\n", i)
		}
		for _, i := range c.OnlyVendor {
			fmt.Fprintf(w, "  - %s (only in the vendor's list)\n", i)
		}
	}
}
