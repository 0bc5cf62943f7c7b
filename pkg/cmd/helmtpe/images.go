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

// Run resolves the release and lists its images (images.Run).
func (o *ImagesOptions) Run(ctx context.Context, namespace string) (*images.Report, error) {
	_, rel, err := o.Repo.target(ctx, o.env, &o.Target, o.ErrOut)
	if err != nil {
		return nil, err
	}
	noteTo(o.ErrOut, o.Target.Note)
	cfg := images.RunConfig{Release: rel, ValueFiles: o.ValueFiles, Namespace: namespace, Registry: o.Registry, ChartDir: o.ChartDir,
		VendorFile: o.VendorManifest, NoVendor: o.VendorManifest == noVendorManifest, VendorTimeout: vendorFetchTimeout}
	if cfg.NoVendor {
		cfg.VendorFile = ""
	}
	if o.Repo.Bundle != "" {
		if cfg.Bundle, err = o.Repo.openBundle(); err != nil {
			return nil, err
		}
		cfg.BundlePath = o.Repo.Bundle
	}
	out, err := images.Run(ctx, images.Deps{Charts: func(v values.Values) (charts.Source, error) {
		hideValues(o.ErrOut, v)
		return o.Repo.source(o.env, v, o.In, o.ErrOut)
	}}, cfg)
	var vfe *images.VendorFileError
	switch {
	case errors.As(err, &vfe):
		return nil, fmt.Errorf("--vendor-manifest: %w", err)
	case err != nil:
		return nil, err
	}
	hideValues(o.ErrOut, out.Values)
	if out.VendorNote != "" {
		hint := ""
		if out.VendorElsewhere {
			hint = " (pass --vendor-manifest FILE, or none to skip it)"
		}
		fmt.Fprintf(o.ErrOut, "note: %s%s\n", out.VendorNote, hint)
	}
	return out.Report, nil
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
