package helmtpe

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/getter"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// RepoAddOptions are the options of `helm tpe repo add`.
type RepoAddOptions struct {
	Name       string
	URL        string
	IDFile     string
	ValueFiles []string
	// AllowInsecureHTTP is --allow-insecure-http.
	AllowInsecureHTTP bool
	To                string
	Output            string

	env    *Env
	format cli.Format
	matrix *manifest.Matrix
	// target is the release of --to (nil: none given, the newest release the repository serves).
	target *manifest.Release
	genericiooptions.IOStreams
}

// RepoAddResult is what `repo add` prints.
type RepoAddResult struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	IDSource string `json:"installationIdSource"`
	ID       string `json:"installationId"`
	// Target is the release whose four charts were verified: --to, else the newest known
	// release the repository serves in full ("" when it serves none).
	Target         string   `json:"target"`
	ChartsVerified []string `json:"chartsVerified"`
	// ReleasesServed are the known releases whose four charts the repository serves, oldest first.
	ReleasesServed []string `json:"releasesServed"`
	// Warnings say what the repository lacks when no --to was given (the repository is added anyway).
	Warnings   []string `json:"warnings,omitempty"`
	RepoConfig string   `json:"repositoryConfig"`
}

// NewCmdRepo builds `helm tpe repo` and its subcommands.
func NewCmdRepo(env *Env) *cobra.Command {
	repo := &cobra.Command{
		Use:   "repo",
		Short: "Manage the vendor's chart repository",
		Long: templates.LongDesc(`
			Manage the vendor's chart repository, where user and password are both the installation ID.`),
		Example: templates.Examples(`
			# Add the vendor repository, reading the installation ID from a file
			helm tpe repo add --installation-id-file ~/.tpe/installation-id`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	repo.AddCommand(NewCmdRepoAdd(env))
	return repo
}

// NewCmdRepoAdd builds `helm tpe repo add`.
func NewCmdRepoAdd(env *Env) *cobra.Command {
	o := &RepoAddOptions{Name: charts.DefaultRepoName, URL: charts.DefaultRepoURL, Output: "table", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add the vendor's chart repository with the installation ID, and check it",
		Long: templates.LongDesc(`
			Add the vendor's chart repository to Helm's repositories.yaml, as
			"helm repo add --username ID --password ID actility URL" does, then check it: the index is
			fetched with the credentials (401/403: the installation ID is rejected), and the releases it
			serves in full (their four charts) are listed.

			With --to, the four charts of that release must be in the index, else nothing is added. Without
			--to, a repository that lacks the newest known release (a mirror, or a repository that only
			carries the releases a customer licensed) is added with a warning that lists the releases it
			does serve.

			The installation ID is read from --installation-id-file, the HELM_TPE_INSTALLATION_ID variable,
			global.installationId of the values files (-f), or a prompt that does not echo. It is never a
			plain flag value (shell history), and it is never printed: at most its last 4 characters.
			repositories.yaml is written with mode 0600.

			The installation ID is the repository's user and password, sent with every request: a plain
			http URL would carry it in clear, so it is refused unless --allow-insecure-http is given (then
			with a warning, on every command that uses the repository). http to this machine (localhost,
			127.0.0.1, ::1: a local mirror or a tunnel) is accepted.`),
		Example: templates.Examples(`
			# Add the vendor repository, reading the ID from a file
			helm tpe repo add --installation-id-file ~/.tpe/installation-id

			# Take the ID from your values file and check the charts of 7.3.1
			helm tpe repo add -f values-thingpark-stack.yaml --to v7.3.1

			# A mirror, ID from the environment (a mirror that lacks the newest release is added with a
			# warning listing the releases it serves)
			HELM_TPE_INSTALLATION_ID=... helm tpe repo add --repo tpe-mirror --repo-url https://mirror.example.com/charts`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	// --repo and --repo-url, as every command that reads the repository names them.
	cmd.Flags().StringVar(&o.Name, "repo", o.Name, "repository `NAME` in Helm's repositories.yaml (what --repo of the other commands names)")
	cmd.Flags().StringVar(&o.URL, "repo-url", o.URL, "repository `URL`")
	cli.AliasFlag(cmd.Flags(), "repo", "name")
	cli.AliasFlag(cmd.Flags(), "repo-url", "url")
	cmd.Flags().StringVar(&o.IDFile, "installation-id-file", "", "file holding the installation ID")
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files; global.installationId is used when no other source gives the ID")
	cmd.Flags().StringVar(&o.To, "to", "", "release whose four charts must be in the repository (default: none; a repository without the newest known release only warns)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	addAllowInsecureHTTP(cmd, &o.AllowInsecureHTTP)
	return cmd
}

// Complete resolves the target release and validates the flags.
func (o *RepoAddOptions) Complete() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if o.Name == "" || o.URL == "" {
		return fmt.Errorf("--repo and --repo-url must not be empty")
	}
	if o.matrix, err = manifest.Load(); err != nil {
		return err
	}
	if o.To != "" {
		res, err := o.matrix.ResolveRelease(manifest.Request{Name: o.To})
		if err != nil {
			return manifest.InputError(err, "--to", "")
		}
		r := res.Release
		noteTo(o.ErrOut, res.Note)
		o.target = &r
	}
	return nil
}

// Run adds and checks the repository.
func (o *RepoAddOptions) Run(ctx context.Context) error {
	vals, err := values.LoadContext(ctx, o.ValueFiles)
	if err != nil {
		return err
	}
	hideValues(o.ErrOut, vals)
	if err := checkPlainHTTP(o.URL, "--repo-url", o.AllowInsecureHTTP, o.ErrOut); err != nil {
		return err
	}
	id, src, err := installationID(o.IDFile, vals, o.In, o.ErrOut)
	if err != nil {
		return err
	}
	red := redact.New(id)
	r := &charts.Repo{Name: o.Name, URL: o.URL, ID: id, RepoConfig: o.env.Settings.RepositoryConfig,
		RepoCache: o.env.Settings.RepositoryCache, Getters: getter.All(o.env.Settings), URLFrom: "--repo-url"}
	fmt.Fprintf(o.ErrOut, "checking %s with installation ID %s (from %s) ...\n", o.URL, redact.Mask(id), src)
	if _, err := r.FetchIndex(); err != nil {
		return red.Error(err)
	}
	if o.target != nil {
		if err := r.CheckCharts(*o.target); err != nil {
			return red.Error(fmt.Errorf("--to %s: %w", o.target.Name, err))
		}
	}
	served, err := r.Serves(o.matrix.Releases)
	if err != nil {
		return red.Error(err)
	}
	if err := r.Save(); err != nil {
		return red.Error(err)
	}
	res := RepoAddResult{Name: o.Name, URL: o.URL, IDSource: src, ID: redact.Mask(id), RepoConfig: r.RepoConfig,
		ReleasesServed: []string{}, ChartsVerified: []string{}}
	for _, s := range served {
		res.ReleasesServed = append(res.ReleasesServed, s.Name)
	}
	verified := o.target
	if verified == nil {
		newest := o.matrix.Releases[len(o.matrix.Releases)-1]
		if len(served) > 0 {
			verified = &served[len(served)-1]
		}
		switch {
		case len(served) == 0:
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s serves none of the known releases in full (%s is the newest): check --repo-url, or pass --to with the release you install", o.URL, newest.Name))
		case verified.Name != newest.Name:
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s does not serve the newest known release %s; it serves in full %s: pass --to with the release you install to check it", o.URL, newest.Name, strings.Join(res.ReleasesServed, ", ")))
		}
	}
	if verified != nil {
		res.Target = verified.Name
		for _, c := range verified.Charts() {
			res.ChartsVerified = append(res.ChartsVerified, c.Chart+"-"+c.Version)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(o.ErrOut, "warning: "+w)
	}
	if !o.format.IsTable() {
		return cli.WriteData(o.Out, o.format, res)
	}
	fmt.Fprintf(o.Out, "%q has been added to %s (installation ID %s, from %s)\n", o.Name, r.RepoConfig, res.ID, src)
	if verified != nil {
		fmt.Fprintf(o.Out, "the index lists the four charts of %s: %v\n", verified.Name, res.ChartsVerified)
	}
	if len(res.ReleasesServed) > 0 {
		fmt.Fprintf(o.Out, "releases served in full: %s\n", strings.Join(res.ReleasesServed, ", "))
	}
	return nil
}
