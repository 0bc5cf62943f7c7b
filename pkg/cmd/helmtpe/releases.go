package helmtpe

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	helmcli "helm.sh/helm/v3/pkg/cli"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// FlagRefresh is the flag that reads the vendor's configuration repository for new releases.
const FlagRefresh = "refresh"

// releaseMatrix returns the embedded release matrix merged with the releases learned from the
// vendor's configuration repository: read now when refresh is set (and cached in cacheDir, Helm's
// repository cache), else the last cached ones. A failed refresh or an unreadable cache is a
// warning on errOut, never an error: the embedded matrix (and --manifest) keep working offline.
// The addresses come from catalog.EnvAPIBase and catalog.EnvRawBase when set.
func releaseMatrix(ctx context.Context, refresh bool, cacheDir string, errOut io.Writer) (catalog.Result, error) {
	emb, err := manifest.Load()
	if err != nil {
		return catalog.Result{}, err
	}
	cfg := catalog.ConfigFromEnv()
	// A release published on the branch without a tag is named by its chart's appVersion, when
	// the vendor's chart repository's index is cached.
	cfg.AppVersion = charts.CachedAppVersion(cacheDir, charts.DefaultRepoName)
	res := catalog.Resolve(ctx, emb, catalog.Options{Refresh: refresh, CacheDir: cacheDir, Config: cfg})
	for _, w := range res.Warnings {
		fmt.Fprintf(errOut, "warning: %s\n", w)
	}
	return res, nil
}

// ReleasesOptions are the options of `helm tpe releases`.
type ReleasesOptions struct {
	Output  string
	Refresh bool
	// CacheDir returns the directory of the release cache (Helm's repository cache); nil or "": none.
	CacheDir func() string
	format   cli.Format
	genericiooptions.IOStreams
}

// NewReleasesOptions returns the defaults: the release cache is Helm's repository cache
// ($HELM_REPOSITORY_CACHE, which Helm exports to plugins, or Helm's default).
func NewReleasesOptions(streams genericiooptions.IOStreams) *ReleasesOptions {
	return &ReleasesOptions{Output: "table", IOStreams: streams,
		CacheDir: func() string { return helmcli.New().RepositoryCache }}
}

// NewCmdReleases builds `helm tpe releases`.
func NewCmdReleases(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdReleases(NewReleasesOptions(streams))
}

func newCmdReleases(o *ReleasesOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List the TPE releases helm tpe knows (the embedded release matrix, and the ones learned with --refresh)",
		Long: templates.LongDesc(`
			List every TPE release of the embedded release matrix: its tag, the versions of its four
			charts (the VERSIONS file at the tag) and the Kubernetes versions it supports.

			CHART 1 to CHART 4 are the versions of the charts in install order: thingpark-data-controllers,
			thingpark-data, thingpark-enterprise-controllers (thingpark-application-controllers from 7.2.2
			on) and thingpark-enterprise; -o json names them. Releases marked untagged have a VERSIONS commit but no git tag (8.0.0 is on
			the main branch of the vendor's configuration repository).

			--refresh reads the vendor's configuration repository
			(github.com/actility/thingpark-enterprise-kubernetes) over HTTPS: the VERSIONS file of every
			tag and of the main branch, each checked like a --manifest file. Releases the embedded
			matrix does not know are added and cached next to Helm's repository cache, so later
			commands know them without the network; their Kubernetes range is the one of their line,
			marked inferred. A tag that describes an embedded release differently is shown as a
			conflict and the embedded entry is kept. A failed refresh is a warning: the embedded
			matrix and the last cached releases are listed.`),
		Example: templates.Examples(`
			# List the known releases
			helm tpe releases

			# Learn the releases published since this plugin was built
			helm tpe releases --refresh

			# As JSON, for scripts
			helm tpe releases -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	cmd.Flags().BoolVar(&o.Refresh, FlagRefresh, o.Refresh, "read the vendor's configuration repository for releases this plugin does not know (cached)")
	return cmd
}

// releasesView is the JSON/YAML output: the matrix, and what the configuration repository added.
type releasesView struct {
	Releases []manifest.Release `json:"releases"`
	Catalog  *catalogView       `json:"catalog,omitempty"`
}

type catalogView struct {
	catalog.Merged
	Refreshed bool `json:"refreshed"`
}

// Run prints the matrix.
func (o *ReleasesOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	dir := ""
	if o.CacheDir != nil {
		dir = o.CacheDir()
	}
	res, err := releaseMatrix(ctx, o.Refresh, dir, o.ErrOut)
	if err != nil {
		return err
	}
	m := res.Matrix
	learned := map[string]bool{}
	for _, n := range res.Learned {
		learned[n] = true
	}
	if !o.format.IsTable() {
		v := releasesView{Releases: m.Releases}
		if res.Refreshed || res.Cached {
			v.Catalog = &catalogView{Merged: res.Merged, Refreshed: res.Refreshed}
		}
		return cli.WriteData(o.Out, o.format, v)
	}
	out, done := cli.Fit(o.Out, o.format)
	defer done()
	t := cli.NewTable(out, "RELEASE", "DATE", "CHART 1", "CHART 2", "CHART 3", "CHART 4", "KUBERNETES", "NOTE")
	for _, r := range m.Releases {
		c := r.Charts()
		var notes []string
		if len(r.Aliases) > 0 {
			notes = append(notes, "alias "+strings.Join(r.Aliases, ", "))
		}
		if !r.Tagged {
			if r.Ref != "" {
				notes = append(notes, "untagged ("+r.Ref+")")
			} else {
				notes = append(notes, "untagged")
			}
		}
		if learned[r.Name] {
			notes = append(notes, "learned "+res.FetchedAt.Format("2006-01-02"))
		}
		if latest, ok := m.LatestFix(r.Line()); ok && latest.Name == r.Name {
			notes = append(notes, "latest "+r.Line())
		}
		kube := fmt.Sprintf("%s–%s", r.Kubernetes.Min, r.Kubernetes.Max)
		if r.Kubernetes.Min == "" {
			kube = "unknown"
		} else if learned[r.Name] {
			kube += " (inferred)"
		}
		t.Row(r.Name, r.Date, c[0].Version, c[1].Version, c[2].Version, c[3].Version, kube, strings.Join(notes, ", "))
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, n := range res.Named {
		fmt.Fprintf(o.ErrOut, "note: %s is published on the configuration repository's branch without a tag: %s\n", n.Name, n.How)
	}
	for _, u := range res.Unreleased {
		fmt.Fprintf(o.ErrOut, "note: the %s branch of the configuration repository (commit %.12s) has charts of no known release: %s %s, %s %s, %s %s, %s %s\n",
			u.Ref, u.Commit, manifest.ChartDataControllers, u.Release.DataControllers, manifest.ChartData, u.Release.Data,
			chart3Name(u.Release), chart3Version(u.Release), manifest.ChartEnterprise, u.Release.Enterprise)
	}
	if res.Refreshed || res.Cached {
		how := "cached"
		if res.Refreshed {
			how = "refreshed"
		}
		fmt.Fprintf(o.ErrOut, "%d release(s) learned from %s (%s %s)\n", len(res.Learned), res.Source, how, res.FetchedAt.Format("2006-01-02 15:04 MST"))
	}
	return nil
}

func chart3Name(r manifest.Release) string    { return r.Charts()[2].Chart }
func chart3Version(r manifest.Release) string { return r.Charts()[2].Version }
