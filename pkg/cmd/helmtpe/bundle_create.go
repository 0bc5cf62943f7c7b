package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/airgap"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundlesign"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// BundleCreateOptions are the options of `helm tpe bundle create`.
type BundleCreateOptions struct {
	Target     targetFlags
	Repo       repoFlags
	From       string
	ValueFiles []string
	File       string
	Output     string
	Force      bool
	Images     imageFlags
	// SignKey is --sign-key: the private key the bundle is signed with as it is written.
	SignKey string

	env *Env
	genericiooptions.IOStreams
}

// NewCmdBundleCreate builds `helm tpe bundle create`.
func NewCmdBundleCreate(env *Env) *cobra.Command {
	o := &BundleCreateOptions{env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "create --to RELEASE [--from RELEASE] [-f VALUES]... [--output-file FILE]",
		Short: "Build a release bundle on a machine that reaches the vendor's repositories",
		Long: templates.LongDesc(`
			Build a release bundle: the four charts of every release on the path from --from to --to
			(only --to's for a fresh install), downloaded from the chart repository with the installation
			ID as "helm tpe repo add" does; the release manifests; from the vendor's configuration
			repository, each release's container-manifest.txt and the manifests of the hops' cluster-admin
			steps where the vendor publishes them; the images the charts render with your values (-f); and
			a checksum of every file.

			What the vendor does not publish for a release is listed in the bundle as missing; a
			configuration repository that cannot be read at all (down, unreachable, blocked) is an error
			and no bundle is written. A file that would contain the installation ID or another secret of
			your values is refused, and so are images whose references would hold one (the rule of
			"helm tpe images"). The summary
			ends with the bundle's digest: compare it on the other side with "bundle verify --digest".

			--images (not the default: a bundle with images weighs gigabytes) carries the images too, as
			an OCI image layout in the bundle: every image "helm tpe images" lists for your values (the
			images the charts render; the vendor's container-manifest.txt is kept and compared, and an
			image only it names is not carried), pulled with the credentials of Helm's registry
			configuration (--registry-config) and of Docker's (docker login), pinned by digest, a
			multi-platform index reduced to --platform, and each layer stored once however many images and
			releases share it. The total size is printed before anything is downloaded, then the bytes of
			each image; the layers stay in --cache-dir, so a rerun downloads only what it lacks. An image
			above --max-image-size is refused, never truncated. Push them at the site with "bundle push".`),
		Example: templates.Examples(`
			# A two-hop upgrade path, with the values the images are rendered with
			helm tpe bundle create --from v7.1.3a --to v7.3.1 -f values.yaml --output-file tpe-v7.3.1.tar.gz

			# The same, carrying the images (linux/amd64)
			helm tpe bundle create --from v7.1.3a --to v7.3.1 -f values.yaml --images --output-file tpe-v7.3.1.tar.gz

			# A fresh install of 7.3.1, from a repository given by URL
			helm tpe bundle create --to v7.3.1 --repo-url https://repository.thingpark.com/charts --installation-id-file ~/.tpe/id`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	o.Target.add(cmd, true)
	o.Repo.add(cmd)
	cmd.Flags().StringVar(&o.From, "from", "", "the release the site runs (omit for a fresh install)")
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files the images are rendered with (repeatable)")
	cmd.Flags().StringVar(&o.File, "output-file", "", "the bundle `FILE` to write (default tpe-bundle-<to>.tar.gz)")
	cli.AliasFlag(cmd.Flags(), "output-file", "file")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "format of the summary: table, wide, json or yaml (the bundle file is --output-file)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite the bundle file if it exists")
	cmd.Flags().StringVar(&o.SignKey, "sign-key", "", "sign the bundle with this private key `FILE` (cosign's format, see bundle keygen; password from $COSIGN_PASSWORD or a prompt): bundle verify --key checks it")
	o.Images.add(cmd)
	return cmd
}

// checkFile refuses, before anything is downloaded, a bundle file that exists (without --force)
// or whose directory does not.
func (o *BundleCreateOptions) checkFile() error {
	err := bundle.CheckTarget(o.File, o.Force)
	var ee *bundle.ExistsError
	if errors.As(err, &ee) {
		return fmt.Errorf("%w: pass --force to overwrite it", err)
	}
	return err
}

// Run builds the bundle.
func (o *BundleCreateOptions) Run(ctx context.Context) error {
	start := time.Now()
	format, file, err := cli.FileAndFormat(o.Output, o.File, o.ErrOut, cli.FormatTable, cli.FormatJSON, cli.FormatYAML)
	if err != nil {
		return err
	}
	o.File = file
	m, to, err := o.Repo.target(ctx, o.env, &o.Target, o.ErrOut)
	if err != nil {
		return err
	}
	noteTo(o.ErrOut, o.Target.Note)
	var from *manifest.Release
	if o.From != "" {
		f, note, err := installed(m, o.From)
		if err != nil {
			return err
		}
		noteTo(o.ErrOut, note)
		from = &f
	}
	vals, err := values.LoadContext(ctx, o.ValueFiles)
	if err != nil {
		return err
	}
	hideValues(o.ErrOut, vals)
	if o.File == "" {
		o.File = "tpe-bundle-" + to.Name + ".tar.gz"
	}
	if err := o.checkFile(); err != nil {
		return err
	}
	var signer *bundlesign.Signer
	if o.SignKey != "" {
		if signer, err = loadSigner("--sign-key", o.SignKey, o.In, o.ErrOut); err != nil {
			return err
		}
	}
	layout, err := o.Images.layout(o.env.Settings.RegistryConfig, o.ErrOut)
	if err != nil {
		return err
	}
	repo, err := o.Repo.open(o.env, vals, o.In, o.ErrOut)
	if err != nil {
		return err
	}
	// One redactor for the command: the installation ID and the values' secrets are masked in
	// every message and refused in the bundle's files.
	red := redact.NewTagged(append([]redact.Secret{{Path: "installation ID", Value: repo.InstallationID()}}, redact.FromValues(vals)...))
	host, _ := os.Hostname()
	fmt.Fprintf(o.ErrOut, "Building the bundle of %s from %s\n", to.Name, repo.URL)
	var res *airgap.Result
	err = bundle.WriteFile(o.File, func(w io.Writer) error {
		var err error
		res, err = airgap.Create(ctx, airgap.Deps{Charts: repo, ChartRepository: repo.URL, Config: catalog.ConfigFromEnv(),
			Images: renderImages, Layout: layout, Progress: func(f string, a ...any) { fmt.Fprintf(o.ErrOut, f+"\n", a...) }},
			airgap.Config{Matrix: m, From: from, To: to, Values: vals, Redactor: red, Host: host,
				CreatedBy: "helm-tpe " + cli.Version().Version, Sign: signer.SignFunc()}, w)
		return err
	})
	if err != nil {
		var ce *airgap.ConfigError
		if errors.As(err, &ce) {
			err = fmt.Errorf("%w; check this machine's access to it (HTTPS_PROXY), or set %s to a mirror of it", err, catalog.EnvRawBase)
		}
		return red.Error(err)
	}
	bm := res.Manifest
	if !format.IsTable() {
		sum := BundleCreateResult{File: o.File, From: bm.From, Releases: bm.ReleaseNames(), Charts: countCharts(bm),
			Images: len(bm.Images()), AdminManifests: len(bm.Admin), Digest: res.Digest, Size: res.Size, Signed: signer != nil}
		for _, ms := range bm.Missing {
			sum.Missing = append(sum.Missing, ms.What+": "+ms.Reason)
		}
		return cli.WriteData(o.Out, format, sum)
	}
	fmt.Fprintf(o.Out, "Bundle:    %s (%s, built in %s)\n", o.File, bundle.Size(res.Size), time.Since(start).Round(time.Second))
	fmt.Fprintf(o.Out, "Path:      %s\n", pathLine(bm))
	fmt.Fprintf(o.Out, "Charts:    %d, images: %d, cluster-admin manifests: %d\n", countCharts(bm), len(bm.Images()), len(bm.Admin))
	if l := bm.Layout; l != nil {
		fmt.Fprintf(o.Out, "Carried:   %d images for %s, %s (%s referenced, each layer once)\n", len(l.Images), strings.Join(l.Platforms, ", "), bundle.Size(l.Size), bundle.Size(l.Referenced))
	}
	for _, ms := range bm.Missing {
		fmt.Fprintf(o.Out, "Missing:   %s: %s\n", ms.What, ms.Reason)
	}
	fmt.Fprintf(o.Out, "Digest:    %s\n", res.Digest)
	verify := ""
	if signer != nil {
		fmt.Fprintf(o.Out, "Signed:    with %s (key hint %s)\n", o.SignKey, signer.Hint())
		verify = " --key PUBLIC-KEY"
	}
	fmt.Fprintf(o.Out, "\nOn the deployment machine: helm tpe bundle verify %s --digest %s%s\n", filepath.Base(o.File), res.Digest, verify)
	return nil
}

// BundleCreateResult is the -o json|yaml summary of `bundle create`.
type BundleCreateResult struct {
	File           string   `json:"file"`
	From           string   `json:"from,omitempty"`
	Releases       []string `json:"releases"`
	Charts         int      `json:"charts"`
	Images         int      `json:"images"`
	AdminManifests int      `json:"adminManifests"`
	Missing        []string `json:"missing,omitempty"`
	Digest         string   `json:"digest"`
	Size           int64    `json:"size"`
	Signed         bool     `json:"signed"`
}

func pathLine(m *bundle.Manifest) string {
	from := "fresh install"
	if m.From != "" {
		from = m.From
	}
	return from + " → " + strings.Join(m.ReleaseNames(), " → ")
}

func countCharts(m *bundle.Manifest) int {
	seen := map[string]bool{}
	for _, r := range m.Releases {
		for _, c := range r.Charts {
			seen[c.File] = true
		}
	}
	return len(seen)
}
