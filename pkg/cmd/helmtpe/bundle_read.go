package helmtpe

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundlesign"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// BundleReadOptions are the options of `helm tpe bundle verify` and `bundle show`.
type BundleReadOptions struct {
	File   string
	Digest string
	// Key is --key of verify: the public key the bundle must be signed with.
	Key    string
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
	// Signed is whether the bundle holds a signature; Signature the signature verified with --key.
	Signed    bool               `json:"signed"`
	Signature *bundlesign.Signed `json:"signature,omitempty"`
}

// NewCmdBundleVerify builds `helm tpe bundle verify`.
func NewCmdBundleVerify(streams genericiooptions.IOStreams) *cobra.Command {
	o := &BundleReadOptions{Output: "table", verify: true, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "verify FILE [--digest sha256:...] [--key PUB]",
		Short: "Check a release bundle: complete, unmodified, every checksum right",
		Long: templates.LongDesc(`
			Check a release bundle to its last byte: a complete gzip and tar stream, every file listed in
			its SHA256SUMS with the right checksum and nothing else, its bundle.json readable and naming
			only files it holds. With --digest, the whole file must also have the digest that
			"bundle create" printed (this catches a bundle rebuilt by someone else). With --key, the
			bundle must also be signed with that public key's private key ("bundle create --sign-key",
			"bundle sign"), and its bundle.json and SHA256SUMS be the ones signed: this refuses a
			bundle unsigned, signed with another key, or changed and re-summed since it was signed.
			Without --key a signed bundle is checked on its checksums alone, as an unsigned one.

			Exit codes: 0 the bundle verifies, 2 it does not (the message says what is wrong), 1 error.`),
		Example: templates.Examples(`
			# Check a bundle after carrying it
			helm tpe bundle verify tpe-v7.3.1.tar.gz

			# ... and that it is the one that was built (the digest bundle create printed)
			helm tpe bundle verify tpe-v7.3.1.tar.gz --digest sha256:4f1c...

			# ... and that it was signed with the builder's key, and not changed since
			helm tpe bundle verify tpe-v7.3.1.tar.gz --key tpe-bundle.pub`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Digest, "digest", "", "the `DIGEST` that bundle create printed (sha256:...)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	cmd.Flags().StringVar(&o.Key, "key", "", "the public key `FILE` (cosign's format) the bundle must be signed with; without it a signature is not checked")
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	return cmd
}

// Run reads and verifies the bundle, and prints it.
func (o *BundleReadOptions) Run() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	// A malformed digest is bad input (exit 1), not a bundle that does not match (exit 2).
	o.Digest = strings.ToLower(strings.TrimSpace(o.Digest))
	if o.Digest != "" && !bundle.ValidDigest(o.Digest) {
		return fmt.Errorf("--digest %q: want sha256:<64 hex digits>, as `bundle create` prints it", o.Digest)
	}
	var progress bundle.Progress
	if o.format.IsTable() && cli.IsTerminal(o.ErrOut) {
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
	_, rep.Signed = b.Signature()
	if o.Key != "" {
		if rep.Signature, err = CheckSignature(b, "--key", o.Key); err != nil {
			var ve *bundlesign.VerifyError
			if errors.As(err, &ve) {
				return cli.Failed(err)
			}
			return err
		}
	}
	if !o.verify {
		rep.Files = b.Files()
	}
	if !o.format.IsTable() {
		return cli.WriteData(o.Out, o.format, rep)
	}
	if o.verify {
		files := b.Files()
		fmt.Fprintf(o.Out, "Bundle %s verifies: %d files, %s, every checksum matches", o.File, len(files), bundle.Size(b.Size))
		if o.Digest != "" {
			fmt.Fprint(o.Out, ", digest matches")
		}
		switch {
		case rep.Signature != nil:
			fmt.Fprintf(o.Out, ", signed with %s (key hint %s)", o.Key, rep.Signature.Hint)
		case rep.Signed:
			fmt.Fprint(o.Out, "; it is signed, not checked (pass --key to check who signed it)")
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
	if _, ok := b.Signature(); ok {
		fmt.Fprintln(w, "Signed:      yes, not checked here (bundle verify --key PUB checks it)")
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
	if l := m.Layout; l != nil {
		fmt.Fprintf(w, "\nImages carried (%s; %s, %s referenced, each layer once; push them with bundle push):\n", strings.Join(l.Platforms, ", "), bundle.Size(l.Size), bundle.Size(l.Referenced))
		t := cli.NewTable(w, "IMAGE", "DIGEST", "SIZE")
		for _, i := range l.Images {
			t.Row(i.Ref, i.Digest, bundle.Size(i.Size))
		}
		if err := t.Render(); err != nil {
			return err
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
