package helmtpe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// ReleasesOptions are the options of `helm tpe releases`.
type ReleasesOptions struct {
	Output string
	format cli.Format
	genericiooptions.IOStreams
}

// NewCmdReleases builds `helm tpe releases`.
func NewCmdReleases(streams genericiooptions.IOStreams) *cobra.Command {
	o := &ReleasesOptions{Output: "table", IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List the TPE releases helm tpe knows (the embedded release matrix)",
		Long: templates.LongDesc(`
			List every TPE release of the embedded release matrix: its tag, the versions of its four
			charts (the VERSIONS file at the tag) and the Kubernetes versions it supports.

			Chart 3 is thingpark-enterprise-controllers up to 7.2.1b and thingpark-application-controllers
			from 7.2.2 on. Releases marked untagged have a VERSIONS commit but no git tag.`),
		Example: templates.Examples(`
			# List the known releases
			helm tpe releases

			# As JSON, for scripts
			helm tpe releases -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	return cmd
}

// Run prints the matrix.
func (o *ReleasesOptions) Run() error {
	m, err := manifest.Load()
	if err != nil {
		return err
	}
	if o.format != cli.FormatTable {
		return cli.WriteData(o.Out, o.format, m)
	}
	t := cli.NewTable(o.Out, "RELEASE", "DATE", "DATA-CONTROLLERS", "DATA", "CONTROLLERS (CHART 3)", "ENTERPRISE", "KUBERNETES", "NOTE")
	for _, r := range m.Releases {
		c := r.Charts()
		var notes []string
		if len(r.Aliases) > 0 {
			notes = append(notes, "alias "+strings.Join(r.Aliases, ", "))
		}
		if !r.Tagged {
			notes = append(notes, "untagged")
		}
		if latest, ok := m.LatestFix(r.Line()); ok && latest.Name == r.Name {
			notes = append(notes, "latest "+r.Line())
		}
		t.Row(r.Name, r.Date, c[0].Version, c[1].Version, chart3(c[2]), c[3].Version,
			fmt.Sprintf("%s–%s", r.Kubernetes.Min, r.Kubernetes.Max), strings.Join(notes, ", "))
	}
	return t.Render()
}

func chart3(c manifest.ChartRef) string {
	if c.Chart == manifest.ChartEnterpriseControllers {
		return c.Version + " (enterprise-controllers)"
	}
	return c.Version
}

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
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Manifest, "manifest", "", "VERSIONS file to read instead of the embedded matrix")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json, yaml or versions")
	return cmd
}

// Run prints the manifest.
func (o *ManifestOptions) Run() error {
	m, err := manifest.Load()
	if err != nil {
		return err
	}
	r, err := o.release(m)
	if err != nil {
		return err
	}
	return writeManifest(o.Out, o.Output, o.format, r)
}

// release is the release to show: --manifest's file (named by RELEASE, its directory or its
// charts, else a custom release), else RELEASE or the newest known release. Errors name RELEASE
// or --manifest, the two inputs of this command.
func (o *ManifestOptions) release(m *manifest.Matrix) (manifest.Release, error) {
	if o.Manifest != "" {
		data, err := os.ReadFile(o.Manifest)
		if err != nil {
			return manifest.Release{}, fmt.Errorf("reading --manifest: %w", err)
		}
		r, err := m.ReadRelease(o.Manifest, data, o.Release)
		if err != nil {
			var perr *manifest.ParseError
			if errors.As(err, &perr) {
				return manifest.Release{}, fmt.Errorf("--manifest: %w", err)
			}
			return manifest.Release{}, fmt.Errorf("RELEASE: %w (with --manifest, RELEASE names the file's release)", err)
		}
		return r, nil
	}
	if o.Release == "" {
		return m.Releases[len(m.Releases)-1], nil
	}
	r, err := m.Resolve(o.Release)
	if err != nil {
		return manifest.Release{}, fmt.Errorf("RELEASE: %w; for another release pass its VERSIONS file with --manifest", err)
	}
	return r, nil
}

func writeManifest(w io.Writer, output string, f cli.Format, r manifest.Release) error {
	type view struct {
		manifest.Release
		ChartList []manifest.ChartRef `json:"charts"`
		// Custom is true for a VERSIONS file whose release nothing names (Name is empty).
		Custom bool `json:"custom,omitempty"`
	}
	if output == "versions" {
		_, err := io.WriteString(w, manifest.FormatVersions(r))
		return err
	}
	if f != cli.FormatTable {
		return cli.WriteData(w, f, view{Release: r, ChartList: r.Charts(), Custom: r.Name == ""})
	}
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
	fmt.Fprintf(w, "Source:     %s\n\n", r.Source)
	t := cli.NewTable(w, "STEP", "HELM RELEASE", "CHART", "VERSION")
	for _, c := range r.Charts() {
		t.Row(fmt.Sprint(c.Step), c.ReleaseName, c.Chart, c.Version)
	}
	return t.Render()
}
