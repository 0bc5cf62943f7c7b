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
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// NewCmdBundle builds `helm tpe bundle` and its subcommands.
func NewCmdBundle(env *Env) *cobra.Command {
	b := &cobra.Command{
		Use:   "bundle",
		Short: "Carry a TPE release to a site without internet access: create, verify and show release bundles",
		Long: templates.LongDesc(`
			A release bundle is one file that holds everything an install or upgrade to a TPE release
			needs from the vendor: the four charts of every release on the path, the release manifests,
			the vendor's image list of each release, the images the charts render with your values, and
			the cluster-admin manifests the hops name (CRDs, RBAC, PriorityClasses, StorageClasses).

			Build it where the vendor's chart repository and configuration repository can be reached
			("bundle create"), carry it in, check it ("bundle verify"), then run
			"helm tpe plan|install|upgrade --bundle FILE": the same plan, checks, backups, waits and
			post-upgrade gate, with no repository access. The installation ID is never written into a
			bundle.`),
		Example: templates.Examples(`
			# On a connected machine: everything to upgrade a site from 7.1.3a to 7.3.1
			helm tpe bundle create --from v7.1.3a --to v7.3.1 -f values.yaml -o tpe-v7.3.1.tar.gz

			# On the deployment machine of the site
			helm tpe bundle verify tpe-v7.3.1.tar.gz --digest sha256:...
			helm tpe upgrade --bundle tpe-v7.3.1.tar.gz -f values.yaml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	b.AddCommand(NewCmdBundleCreate(env), NewCmdBundleVerify(env.Streams), NewCmdBundleShow(env.Streams))
	return b
}

// BundleCreateOptions are the options of `helm tpe bundle create`.
type BundleCreateOptions struct {
	Target     targetFlags
	Repo       repoFlags
	From       string
	ValueFiles []string
	File       string
	Force      bool

	env *Env
	genericiooptions.IOStreams
}

// NewCmdBundleCreate builds `helm tpe bundle create`.
func NewCmdBundleCreate(env *Env) *cobra.Command {
	o := &BundleCreateOptions{env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "create --to RELEASE [--from RELEASE] [-f VALUES]... [-o FILE]",
		Short: "Build a release bundle on a machine that reaches the vendor's repositories",
		Long: templates.LongDesc(`
			Build a release bundle: the four charts of every release on the path from --from to --to
			(only --to's for a fresh install), downloaded from the chart repository with the installation
			ID as "helm tpe repo add" does; the release manifests; from the vendor's configuration
			repository, each release's container-manifest.txt and the manifests of the hops' cluster-admin
			steps where the vendor publishes them; the images the charts render with your values (-f); and
			a checksum of every file.

			What the vendor does not publish for a release is listed in the bundle as missing. A file that
			would contain the installation ID or another secret of your values is refused. The summary
			ends with the bundle's digest: compare it on the other side with "bundle verify --digest".`),
		Example: templates.Examples(`
			# A two-hop upgrade path, with the values the images are rendered with
			helm tpe bundle create --from v7.1.3a --to v7.3.1 -f values.yaml -o tpe-v7.3.1.tar.gz

			# A fresh install of 7.3.1, from a repository given by URL
			helm tpe bundle create --to v7.3.1 --repo-url https://repository.thingpark.com/charts --installation-id-file ~/.tpe/id`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	o.Target.add(cmd, true)
	o.Repo.add(cmd)
	cmd.Flags().StringVar(&o.From, "from", "", "the release the site runs (omit for a fresh install)")
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files the images are rendered with (repeatable)")
	cmd.Flags().StringVarP(&o.File, "output", "o", "", "the bundle file to write (default tpe-bundle-<to>.tar.gz)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite the bundle file if it exists")
	return cmd
}

// Run builds the bundle.
func (o *BundleCreateOptions) Run(ctx context.Context) error {
	start := time.Now()
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
	vals := values.Values{}
	if len(o.ValueFiles) > 0 {
		if vals, err = values.Load(o.ValueFiles); err != nil {
			return err
		}
	}
	if o.File == "" {
		o.File = "tpe-bundle-" + to.Name + ".tar.gz"
	}
	if _, err := os.Stat(o.File); err == nil && !o.Force {
		return fmt.Errorf("-o %s exists: pass --force to overwrite it", o.File)
	}
	repo, err := o.Repo.open(o.env, vals, o.In, o.ErrOut)
	if err != nil {
		return err
	}
	secrets := append(redact.Strings(redact.FromValues(vals)), repo.InstallationID())
	red := redact.New(secrets...)
	tmp, err := os.CreateTemp(filepath.Dir(o.File), ".tpe-bundle-*")
	if err != nil {
		return fmt.Errorf("-o %s: %w", o.File, err)
	}
	defer os.Remove(tmp.Name())
	host, _ := os.Hostname()
	fmt.Fprintf(o.ErrOut, "Building the bundle of %s from %s\n", to.Name, repo.URL)
	res, err := airgap.Create(ctx, airgap.Deps{Charts: repo, ChartRepository: repo.URL, Config: catalog.ConfigFromEnv(),
		Images: renderImages, Progress: func(f string, a ...any) { fmt.Fprintf(o.ErrOut, f+"\n", a...) }},
		airgap.Config{Matrix: m, From: from, To: to, Values: vals, Secrets: secrets, Host: host,
			CreatedBy: "helm-tpe " + cli.Version().Version}, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return red.Error(err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), o.File); err != nil {
		return fmt.Errorf("-o %s: %w", o.File, err)
	}
	bm := res.Manifest
	fmt.Fprintf(o.Out, "Bundle:    %s (%s, built in %s)\n", o.File, bundle.Size(res.Size), time.Since(start).Round(time.Second))
	fmt.Fprintf(o.Out, "Path:      %s\n", pathLine(bm))
	fmt.Fprintf(o.Out, "Charts:    %d, images: %d, cluster-admin manifests: %d\n", countCharts(bm), len(bm.Images()), len(bm.Admin))
	for _, ms := range bm.Missing {
		fmt.Fprintf(o.Out, "Missing:   %s: %s\n", ms.What, ms.Reason)
	}
	fmt.Fprintf(o.Out, "Digest:    %s\n", res.Digest)
	fmt.Fprintf(o.Out, "\nOn the deployment machine: helm tpe bundle verify %s --digest %s\n", filepath.Base(o.File), res.Digest)
	return nil
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

// BundleReadOptions are the options of `helm tpe bundle verify` and `bundle show`.
type BundleReadOptions struct {
	File   string
	Digest string
	Output string
	format cli.Format
	verify bool
	genericiooptions.IOStreams
}

// BundleReport is what `bundle verify` and `bundle show -o json|yaml` print.
type BundleReport struct {
	File     string          `json:"file"`
	Verified bool            `json:"verified"`
	Digest   string          `json:"digest"`
	Size     int64           `json:"size"`
	Manifest bundle.Manifest `json:"manifest"`
	Files    []bundle.Entry  `json:"files,omitempty"`
	Images   []string        `json:"images"`
}

// NewCmdBundleVerify builds `helm tpe bundle verify`.
func NewCmdBundleVerify(streams genericiooptions.IOStreams) *cobra.Command {
	o := &BundleReadOptions{Output: "table", verify: true, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "verify FILE [--digest sha256:...]",
		Short: "Check a release bundle: complete, unmodified, every checksum right",
		Long: templates.LongDesc(`
			Check a release bundle to its last byte: a complete gzip and tar stream, every file listed in
			its SHA256SUMS with the right checksum and nothing else, its bundle.json readable and naming
			only files it holds. With --digest, the whole file must also have the digest that
			"bundle create" printed (this catches a bundle rebuilt by someone else).

			Exit codes: 0 the bundle verifies, 2 it does not (the message says what is wrong), 1 error.`),
		Example: templates.Examples(`
			# Check a bundle after carrying it
			helm tpe bundle verify tpe-v7.3.1.tar.gz

			# ... and that it is the one that was built (the digest bundle create printed)
			helm tpe bundle verify tpe-v7.3.1.tar.gz --digest sha256:4f1c...`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Digest, "digest", "", "the `DIGEST` that bundle create printed (sha256:...)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	return cmd
}

// NewCmdBundleShow builds `helm tpe bundle show`.
func NewCmdBundleShow(streams genericiooptions.IOStreams) *cobra.Command {
	o := &BundleReadOptions{Output: "table", IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Show what a release bundle holds: releases, charts, images, when and from where it was built",
		Long: templates.LongDesc(`
			Show what a release bundle holds: when, where and by what it was built, the charts and
			configuration repositories it was read from, the upgrade path, the charts of each release
			with their sizes, the images, the cluster-admin manifests and what it lacks. The bundle is
			verified first: a modified or truncated bundle is an error.`),
		Example: templates.Examples(`
			# What a bundle holds
			helm tpe bundle show tpe-v7.3.1.tar.gz

			# Its images, one per line, to mirror them into a private registry
			helm tpe bundle show tpe-v7.3.1.tar.gz -o json | jq -r '.images[]'`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	return cmd
}

// Run reads and verifies the bundle, and prints it.
func (o *BundleReadOptions) Run() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if o.Digest != "" && !strings.HasPrefix(o.Digest, "sha256:") {
		return fmt.Errorf("--digest %q: want sha256:<64 hex digits>, as `bundle create` prints it", o.Digest)
	}
	var progress bundle.Progress
	if o.format == cli.FormatTable && cli.IsTerminal(o.ErrOut) {
		progress = func(f string, a ...any) { fmt.Fprintf(o.ErrOut, f+"\n", a...) }
	}
	b, err := bundle.Open(o.File, progress)
	if err != nil {
		var be *bundle.Error
		if o.verify && errors.As(err, &be) {
			return cli.Failed(err)
		}
		return err
	}
	if o.Digest != "" && o.Digest != b.Digest {
		return cli.Failed(fmt.Errorf("bundle %s: its digest is %s, not the --digest %s: it is not the bundle that was built; build and carry it again", o.File, b.Digest, o.Digest))
	}
	rep := BundleReport{File: o.File, Verified: true, Digest: b.Digest, Size: b.Size, Manifest: b.Manifest, Images: b.Manifest.Images()}
	if !o.verify {
		rep.Files = b.Files()
	}
	if o.format != cli.FormatTable {
		return cli.WriteData(o.Out, o.format, rep)
	}
	if o.verify {
		files := b.Files()
		fmt.Fprintf(o.Out, "Bundle %s verifies: %d files, %s, every checksum matches", o.File, len(files), bundle.Size(b.Size))
		if o.Digest != "" {
			fmt.Fprint(o.Out, ", digest matches")
		}
		fmt.Fprintf(o.Out, "\nPath: %s; built %s on %s by %s\n", pathLine(&b.Manifest), b.Manifest.Created.Format(time.RFC3339), orUnknown(b.Manifest.Host), b.Manifest.CreatedBy)
		fmt.Fprintf(o.Out, "Digest: %s\n", b.Digest)
		return nil
	}
	return writeBundle(o.Out, b)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown host"
	}
	return s
}

func writeBundle(w io.Writer, b *bundle.Bundle) error {
	m := b.Manifest
	fmt.Fprintf(w, "Bundle:      %s (%s, %s)\n", b.Path, bundle.Size(b.Size), b.Digest)
	fmt.Fprintf(w, "Built:       %s on %s by %s\n", m.Created.Format(time.RFC3339), orUnknown(m.Host), m.CreatedBy)
	fmt.Fprintf(w, "Charts from: %s\n", m.ChartRepository)
	if m.ConfigRepository != "" {
		fmt.Fprintf(w, "Files from:  %s\n", m.ConfigRepository)
	}
	fmt.Fprintf(w, "Path:        %s\n\n", pathLine(&m))
	t := cli.NewTable(w, "RELEASE", "CHART", "VERSION", "SIZE")
	for _, r := range m.Releases {
		for _, c := range r.Charts {
			t.Row(r.Release.Name, c.Name, c.Version, bundle.Size(c.Size))
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, r := range m.Releases {
		vendor := "the vendor's image list is not in the bundle"
		if r.VendorImages != "" {
			vendor = "the vendor's image list: " + r.VendorImages
		}
		fmt.Fprintf(w, "\nImages of %s (%d, rendered with the values the bundle was built with; %s):\n", r.Release.Name, len(r.Images), vendor)
		for _, i := range r.Images {
			fmt.Fprintf(w, "  %s\n", i)
		}
	}
	for _, r := range m.Releases {
		if len(r.Samples) > 0 {
			fmt.Fprintf(w, "\nCustomization samples of %s (the vendor's values files to start from):\n", r.Release.Name)
			for _, sp := range r.Samples {
				fmt.Fprintf(w, "  %s\n", sp)
			}
		}
	}
	if len(m.Admin) > 0 {
		fmt.Fprintln(w, "\nCluster-admin manifests:")
		t := cli.NewTable(w, "HOP TO", "STEP", "FILE", "VENDOR PATH")
		for _, a := range m.Admin {
			t.Row(a.Hop, a.Step, a.File, a.Source)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if len(m.Missing) > 0 {
		fmt.Fprintln(w, "\nNot in the bundle:")
		for _, ms := range m.Missing {
			fmt.Fprintf(w, "  %s: %s\n", ms.What, ms.Reason)
		}
	}
	return nil
}
