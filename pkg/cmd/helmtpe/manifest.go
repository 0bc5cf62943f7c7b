package helmtpe

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// ManifestOptions are the options of `helm tpe manifest`.
type ManifestOptions struct {
	Release  string
	Manifest string
	Output   string
	format   cli.Format
	genericiooptions.IOStreams
}

// NewCmdManifest builds `helm tpe manifest`.
func NewCmdManifest(streams genericiooptions.IOStreams) *cobra.Command {
	o := &ManifestOptions{Output: "table", IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "manifest [RELEASE]",
		Short: "Show the release manifest of one TPE release: its four charts and Kubernetes range",
		Long: templates.LongDesc(`
			Show the release manifest (the vendor's VERSIONS file) of one TPE release: the four charts in
			install order with their Helm release names and versions, and the supported Kubernetes range.

			RELEASE defaults to the newest known release. --manifest reads a VERSIONS file instead, for a
			release the embedded matrix does not know; it is parsed exactly as the vendor writes it, and
			any error names the line. The file's release is named by RELEASE when given, else by the
			directory holding the file when that is a release tag (releases/v7.3.1/VERSIONS), else by
			the known release with the same four charts; otherwise it is shown as a custom release.
			-o versions prints the manifest back in the vendor's format.`),
		Example: templates.Examples(`
			# The charts of TPE 7.3.1
			helm tpe manifest v7.3.1

			# As YAML
			helm tpe manifest v7.2.2c -o yaml

			# Check a VERSIONS file downloaded from the vendor's repository
			helm tpe manifest v7.3.6 --manifest ./VERSIONS

			# Which release is this VERSIONS file?
			helm tpe manifest --manifest ./VERSIONS`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Release = args[0]
			}
			var err error
			if o.Output != "versions" {
				if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
					return fmt.Errorf("%w (or versions)", err)
				}
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Manifest, "manifest", "", "VERSIONS file to read instead of the embedded matrix")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json, yaml or versions")
	return cmd
}

// Run prints the manifest.
func (o *ManifestOptions) Run(ctx context.Context) error {
	m, err := manifest.Load()
	if err != nil {
		return err
	}
	res, err := o.release(ctx, m)
	if err != nil {
		return err
	}
	return writeManifest(o.Out, o.Output, o.format, res)
}

// release is the release to show (manifest.ResolveRelease): --manifest's file (named by RELEASE,
// its directory or its charts, else a custom release), else RELEASE or the newest known release.
// Errors name RELEASE or --manifest, the two inputs of this command.
func (o *ManifestOptions) release(ctx context.Context, m *manifest.Matrix) (manifest.Resolution, error) {
	res, err := m.ResolveRelease(manifest.Request{Name: o.Release, File: o.Manifest, Unnamed: true, Context: ctx})
	if err != nil {
		return res, manifest.InputError(err, "RELEASE", "--manifest")
	}
	return res, nil
}

func writeManifest(w io.Writer, output string, f cli.Format, res manifest.Resolution) error {
	r := res.Release
	type view struct {
		manifest.Release
		ChartList []manifest.ChartRef `json:"charts"`
		// Custom is true for a VERSIONS file whose release nothing names (Name is empty).
		Custom bool `json:"custom,omitempty"`
		// Note says what RELEASE or the file resolved to, when that is not plain.
		Note string `json:"note,omitempty"`
	}
	if output == "versions" {
		_, err := io.WriteString(w, manifest.FormatVersions(r))
		return err
	}
	if !f.IsTable() {
		return cli.WriteData(w, f, view{Release: r, ChartList: r.Charts(), Custom: r.Name == "", Note: res.Note})
	}
	w, done := cli.Fit(w, f)
	defer done()
	name := r.Name
	if name == "" {
		name = "custom (its charts match no known release)"
	}
	fmt.Fprintf(w, "Release:    %s\n", name)
	if r.Date != "" {
		fmt.Fprintf(w, "Date:       %s\n", r.Date)
	}
	if r.Kubernetes.Min != "" {
		fmt.Fprintf(w, "Kubernetes: %s–%s (%s)\n", r.Kubernetes.Min, r.Kubernetes.Max, r.Kubernetes.Source)
	}
	fmt.Fprintf(w, "Source:     %s\n", r.Source)
	if res.Note != "" {
		fmt.Fprintf(w, "Note:       %s\n", res.Note)
	}
	fmt.Fprintln(w)
	t := cli.NewTable(w, "STEP", "HELM RELEASE", "CHART", "VERSION")
	for _, c := range r.Charts() {
		t.Row(fmt.Sprint(c.Step), c.ReleaseName, c.Chart, c.Version)
	}
	return t.Render()
}
